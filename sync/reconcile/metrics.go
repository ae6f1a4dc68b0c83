package reconcile

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitops-agent/gitops-agent/policy"
)

// Metrics are the reconciler's Prometheus collectors.
type Metrics struct {
	syncs           *prometheus.CounterVec
	duration        *prometheus.HistogramVec
	commitToApplied *prometheus.HistogramVec
	managedObjects  *prometheus.GaugeVec
	findings        *prometheus.GaugeVec
	lastApplied     *prometheus.GaugeVec
}

// NewMetrics registers the reconciler's metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitops_agent_syncs_total",
			Help: "Syncs of an environment to a commit, by result (Applied, Failed, RenderFailed, Invalid, Pending).",
		}, []string{"env", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gitops_agent_reconcile_duration_seconds",
			Help:    "Time to render, validate, apply and prune one environment (health wait excluded).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"env"}),
		commitToApplied: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gitops_agent_commit_to_applied_seconds",
			Help:    "Time from the trigger that brought a new commit (a webhook, a poll) until it was applied, by trigger.",
			Buckets: []float64{.1, .25, .5, .75, 1, 1.5, 2, 3, 5, 10, 30, 60, 120},
		}, []string{"trigger"}),
		managedObjects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitops_agent_managed_objects",
			Help: "Objects in an environment's inventory.",
		}, []string{"env"}),
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitops_agent_policy_findings",
			Help: "Validation findings of the last commit checked, by rule and severity (deny, warn, exempted).",
		}, []string{"env", "rule", "severity"}),
		lastApplied: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitops_agent_last_applied_timestamp_seconds",
			Help: "When an environment last applied a commit successfully.",
		}, []string{"env"}),
	}
	for _, c := range []prometheus.Collector{m.syncs, m.duration, m.commitToApplied, m.managedObjects, m.findings, m.lastApplied} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// triggerLabel folds trigger reasons into few label values: webhook providers stay apart, as
// SREs compare them with polling.
func triggerLabel(reason string) string {
	switch reason {
	case "", "start":
		return "start"
	}
	return reason
}

func (m *Metrics) observeFindings(env string, findings []policy.Finding) {
	m.findings.DeletePartialMatch(prometheus.Labels{"env": env})
	counts := map[[2]string]int{}
	for _, f := range findings {
		sev := string(f.Severity)
		if f.Exempted != "" {
			sev = "exempted"
		}
		counts[[2]string{f.Rule, sev}]++
	}
	for k, n := range counts {
		m.findings.WithLabelValues(env, k[0], k[1]).Set(float64(n))
	}
}

func (m *Metrics) observeSync(env string, result Result, took time.Duration) {
	m.syncs.WithLabelValues(env, string(result)).Inc()
	m.duration.WithLabelValues(env).Observe(took.Seconds())
}
