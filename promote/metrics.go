package promote

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Promoter's Prometheus collectors.
type metrics struct {
	promotions *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	liveInfo   *prometheus.GaugeVec
	phase      *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		promotions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitops_agent_promotions_total",
			Help: "Finished promotions and rollbacks of an environment, by result (promoted, aborted, superseded, rolled-back).",
		}, []string{"env", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gitops_agent_promotion_duration_seconds",
			Help:    "Time from the start of a promotion to its end, whatever the result.",
			Buckets: []float64{1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}, []string{"env"}),
		liveInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitops_agent_promotion_live_info",
			Help: "1 for the colour and commit an environment's routers select.",
		}, []string{"env", "color", "commit"}),
		phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitops_agent_promotion_phase",
			Help: "1 for the phase an environment's promotion is in, 0 for the others.",
		}, []string{"env", "phase"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.promotions, m.duration, m.liveInfo, m.phase} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observeState sets the gauges from an environment's state.
func (m *metrics) observeState(st *State) {
	for _, p := range Phases() {
		v := 0.0
		if p == st.Phase {
			v = 1
		}
		m.phase.WithLabelValues(st.Env, string(p)).Set(v)
	}
	m.liveInfo.DeletePartialMatch(prometheus.Labels{"env": st.Env})
	if st.Live != nil {
		m.liveInfo.WithLabelValues(st.Env, string(st.Live.Color), st.Live.Commit).Set(1)
	}
}

func (m *metrics) observeEnd(env string, result Result, took time.Duration) {
	m.promotions.WithLabelValues(env, string(result)).Inc()
	m.duration.WithLabelValues(env).Observe(took.Seconds())
}
