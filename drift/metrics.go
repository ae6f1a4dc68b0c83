package drift

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the detector's Prometheus series. Their names are what the dashboard and the
// alerts in deploy/ query.
type metrics struct {
	objects   *prometheus.GaugeVec
	events    *prometheus.CounterVec
	detection *prometheus.HistogramVec
	heals     *prometheus.CounterVec
	flapping  *prometheus.GaugeVec
	watched   *watchedCollector
}

// Values of the result label of gitops_agent_drift_heals_total.
const (
	healResultHealed = "healed"
	healResultFailed = "failed"
)

func newMetrics(watched *watchedCollector) *metrics {
	return &metrics{
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitops_agent_drift_objects",
			Help: "Objects whose live state differs from the environment's desired state, by kind.",
		}, []string{"env", "kind"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitops_agent_drift_events_total",
			Help: "Drift detected: new drifts and changes of a drift's fields, by kind and type (modified, deleted, conflict, orphan).",
		}, []string{"env", "kind", "type"}),
		detection: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gitops_agent_drift_detection_seconds",
			Help: "Time from a live change (its managedFields time, second resolution) to its detection as drift.",
			// 10 ms to 60 s.
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60},
		}, []string{"env"}),
		heals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitops_agent_drift_heals_total",
			Help: "Drifted objects re-applied by self-heal, by result (healed, failed).",
		}, []string{"env", "result"}),
		flapping: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitops_agent_drift_flapping",
			Help: "1 while self-heal is stopped for an object because another field manager keeps reverting it.",
		}, []string{"env", "kind", "namespace", "name", "manager"}),
		watched: watched,
	}
}

// register registers every series on r; a nil r keeps them unregistered.
func (m *metrics) register(r prometheus.Registerer) error {
	if r == nil {
		return nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.objects, m.events, m.detection, m.heals, m.flapping, m.watched} {
		if err := r.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				err = errors.New("already registered: a second Detector needs its own Registerer")
			}
			errs = append(errs, fmt.Errorf("register drift metrics: %w", err))
		}
	}
	return errors.Join(errs...)
}

// forget drops every series of env.
func (m *metrics) forget(env string) {
	l := prometheus.Labels{"env": env}
	m.objects.DeletePartialMatch(l)
	m.events.DeletePartialMatch(l)
	m.detection.DeletePartialMatch(l)
	m.heals.DeletePartialMatch(l)
	m.flapping.DeletePartialMatch(l)
}

// watchedCollector reports gitops_agent_drift_watched_objects from the informer caches at
// scrape time, so that no event handler has to keep a count.
type watchedCollector struct {
	desc  *prometheus.Desc
	count func() map[string]int
}

func newWatchedCollector(count func() map[string]int) *watchedCollector {
	return &watchedCollector{
		desc: prometheus.NewDesc("gitops_agent_drift_watched_objects",
			"Objects labelled for the environment in the detector's informer caches.", []string{"env"}, nil),
		count: count,
	}
}

func (c *watchedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *watchedCollector) Collect(ch chan<- prometheus.Metric) {
	for env, n := range c.count() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), env)
	}
}
