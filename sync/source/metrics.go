package source

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts fetches for Prometheus. It implements FetchObserver.
type Metrics struct {
	duration    *prometheus.HistogramVec
	errors      prometheus.Counter
	lastSuccess prometheus.Gauge
}

// Fetch results, the "result" label of gitops_agent_git_fetch_duration_seconds.
const (
	resultUnchanged = "unchanged"
	resultChanged   = "changed"
	resultError     = "error"
)

// NewMetrics creates the fetch metrics and registers them on reg:
//
//	gitops_agent_git_fetch_duration_seconds{result="unchanged|changed|error"}
//	gitops_agent_git_fetch_errors_total
//	gitops_agent_git_last_fetch_success_timestamp_seconds
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gitops_agent_git_fetch_duration_seconds",
			Help: "Duration of git fetches, by result: unchanged (one ref listing), changed (objects fetched) or error.",
			// From a cheap ref listing (~ms) to a large clone (minutes).
			Buckets: prometheus.ExponentialBuckets(0.005, 3, 10),
		}, []string{"result"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gitops_agent_git_fetch_errors_total",
			Help: "Git fetches that failed.",
		}),
		// Alerts on a stale repository compare it with time(): a leader that stopped
		// fetching altogether leaves no failed fetch to count.
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitops_agent_git_last_fetch_success_timestamp_seconds",
			Help: "Unix time of the last successful git fetch.",
		}),
	}
	for _, c := range []prometheus.Collector{m.duration, m.errors, m.lastSuccess} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register git fetch metrics: %w", err)
		}
	}
	return m, nil
}

// ObserveFetch records one fetch.
func (m *Metrics) ObserveFetch(d time.Duration, ch Change, err error) {
	result := resultUnchanged
	switch {
	case err != nil:
		result = resultError
		m.errors.Inc()
	case !ch.Empty():
		result = resultChanged
	}
	if err == nil {
		m.lastSuccess.SetToCurrentTime()
	}
	m.duration.WithLabelValues(result).Observe(d.Seconds())
}
