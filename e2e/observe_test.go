package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/gitops-agent/gitops-agent/localcluster/clustertest"
	"github.com/gitops-agent/gitops-agent/sync/inventory"
	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

// world is what a test observes: the cluster's clients, the namespace its environments deploy
// into and the namespace its agents keep their state in.
type world struct {
	tb   testing.TB
	kube kubernetes.Interface
	dyn  dynamic.Interface
	// ns receives the environments' objects.
	ns string
	// agentNS holds the agents' Environments, inventories and lease; the agent creates it.
	agentNS string
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	needCluster(tb)
	cfg := cluster.RESTConfig()
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	w := &world{tb: tb, kube: kube, dyn: dyn}
	w.ns = clustertest.Namespace(tb, kube)
	w.agentNS = w.ns + "-agent"
	tb.Cleanup(func() {
		err := kube.CoreV1().Namespaces().Delete(context.Background(), w.agentNS, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			tb.Errorf("delete the agent namespace %s: %v", w.agentNS, err)
		}
	})
	return w
}

// status reads environment env's status from its Environment object; nil when it has none yet.
func (w *world) status(ctx context.Context, env string) (*reconcile.Status, error) {
	obj, err := w.dyn.Resource(reconcile.EnvironmentGVR).Namespace(w.agentNS).Get(ctx, env, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	raw, ok := obj.Object["status"].(map[string]any)
	if !ok {
		return nil, nil
	}
	var st reconcile.Status
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &st); err != nil {
		return nil, fmt.Errorf("decode status of Environment %s/%s: %w", w.agentNS, env, err)
	}
	return &st, nil
}

// waitStatus waits until env's status satisfies ok, and returns it.
func (w *world) waitStatus(timeout time.Duration, env, what string, ok func(*reconcile.Status) bool) *reconcile.Status {
	w.tb.Helper()
	var last *reconcile.Status
	var lastErr error
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		last, lastErr = w.status(w.tb.Context(), env)
		if lastErr == nil && last != nil && ok(last) {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.tb.Fatalf("environment %s: not %s within %s; last status %s (error %v)", env, what, timeout, describe(last), lastErr)
	return nil
}

// waitApplied waits until env runs commit: applied, with nothing pending.
func (w *world) waitApplied(timeout time.Duration, env, commit string) *reconcile.Status {
	w.tb.Helper()
	return w.waitStatus(timeout, env, "applied at "+commit[:12], func(st *reconcile.Status) bool {
		return st.LastApplied != nil && st.LastApplied.Commit == commit &&
			st.LastAttempt != nil && st.LastAttempt.Commit == commit && st.LastAttempt.Result == reconcile.ResultApplied
	})
}

// waitResult waits until env's last attempt is commit with result.
func (w *world) waitResult(timeout time.Duration, env, commit string, result reconcile.Result) *reconcile.Status {
	w.tb.Helper()
	return w.waitStatus(timeout, env, string(result)+" at "+commit[:12], func(st *reconcile.Status) bool {
		return st.LastAttempt != nil && st.LastAttempt.Commit == commit && st.LastAttempt.Result == result
	})
}

func describe(st *reconcile.Status) string {
	if st == nil {
		return "(none)"
	}
	s := fmt.Sprintf("observed=%.12s", st.ObservedCommit)
	if st.LastApplied != nil {
		s += " lastApplied=" + st.LastApplied.ShortCommit
	}
	if st.Pending != nil {
		s += " pending=" + st.Pending.ShortCommit
	}
	if a := st.LastAttempt; a != nil {
		s += fmt.Sprintf(" lastAttempt={%s %s %q changes=%v health=%s}", a.ShortCommit, a.Result, a.Message, a.Changes, a.Health)
	}
	return s + " health=" + st.Health + " " + st.HealthMessage
}

// configMap returns a ConfigMap of w.ns, or nil if there is none of that name.
func (w *world) configMap(name string) *corev1.ConfigMap {
	w.tb.Helper()
	cm, err := w.kube.CoreV1().ConfigMaps(w.ns).Get(w.tb.Context(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		w.tb.Fatal(err)
	}
	return cm
}

// waitConfigMap waits until ConfigMap name of w.ns satisfies ok (nil: it does not exist) and
// returns when it did.
func (w *world) waitConfigMap(timeout time.Duration, name, what string, ok func(*corev1.ConfigMap) bool) time.Time {
	w.tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if ok(w.configMap(name)) {
			return time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.tb.Fatalf("ConfigMap %s/%s: not %s within %s", w.ns, name, what, timeout)
	return time.Time{}
}

// inventory returns the ids in env's inventory, as Kind/namespace/name strings, sorted.
func (w *world) inventory(env string) []string {
	w.tb.Helper()
	inv, err := inventory.NewStore(w.kube.CoreV1(), w.agentNS).Load(w.tb.Context(), env)
	if err != nil {
		w.tb.Fatal(err)
	}
	out := make([]string, len(inv.IDs))
	for i, id := range inv.IDs {
		out[i] = id.Kind + "/" + id.Namespace + "/" + id.Name
	}
	slices.Sort(out)
	return out
}

// metrics reads the agent's /metrics.
func (a *agent) metrics() map[string]*dto.MetricFamily {
	a.tb.Helper()
	body, err := a.get(a.tb.Context(), "/metrics")
	if err != nil {
		a.tb.Fatal(err)
	}
	return parseMetrics(a.tb, body)
}

func parseMetrics(tb testing.TB, body []byte) map[string]*dto.MetricFamily {
	tb.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// sample returns the value of the sample of family name whose labels include labels: a
// counter's or gauge's value, a histogram's count. Absent samples are 0.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	fam, ok := fams[name]
	if !ok {
		return 0
	}
	var sum float64
	for _, m := range fam.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	found := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			found++
		}
	}
	return found == len(want)
}
