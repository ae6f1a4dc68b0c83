package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-agent/gitops-agent/config"
	"github.com/gitops-agent/gitops-agent/sync/apply"
	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

// envLabelSelector selects the objects the agent applied for env.
func envLabelSelector(env string) string { return apply.LabelEnvironment + "=" + env }

// bulkConfigMaps is a YAML stream of n ConfigMaps prefix-000… whose data says version.
func bulkConfigMaps(prefix string, n int, version string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-%03d\ndata:\n  version: %s\n  index: %q\n", prefix, i, version, fmt.Sprint(i))
	}
	return b.String()
}

// bulkNames are the inventory ids of bulkConfigMaps(prefix, n, _) in namespace.
func bulkNames(namespace, prefix string, n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("ConfigMap/%s/%s-%03d", namespace, prefix, i)
	}
	return out
}

// TestKilledMidSyncConverges: an agent SIGKILLed in the middle of applying a large commit, and
// one killed while waiting for health, are restarted and bring the environment to the head
// commit: every object in git exists once, at its git state; the objects that left git are
// pruned; nothing that is still in git is pruned.
func TestKilledMidSyncConverges(t *testing.T) {
	w := newWorld(t)
	d := newDeployments(t)
	const env = "crash"
	vars := map[string]string{"NAMESPACE": w.ns}
	const keep, old, added = 150, 50, 100
	files := appFiles(t, env, w.ns)
	files[envPath(env, "kustomization.yaml")] = fixture(t, "kustomization-bulk.yaml", vars)
	files[envPath(env, "bulk.yaml")] = bulkConfigMaps("keep", keep, "v1") + bulkConfigMaps("old", old, "v1")
	first := d.push(t, "the app and 200 ConfigMaps", files)

	cfg := agentConfig(t, d, w.agentNS, envWithHealthTimeout(env, 10*time.Second))
	a1 := startAgent(t, "agent-1", cfg)
	w.waitApplied(120*time.Second, env, first)
	a1.stop()

	// The next commit rewrites 150 ConfigMaps, adds 100 and removes 50. An agent slowed down
	// to 20 requests a second (3 per changed object) needs about 40s for it; it is killed once
	// a few dozen objects are written.
	files[envPath(env, "bulk.yaml")] = bulkConfigMaps("keep", keep, "v2") + bulkConfigMaps("new", added, "v2")
	second := d.push(t, "rewrite, add and remove ConfigMaps", files)
	a2 := startAgent(t, "agent-2-slow", cfg, "--kube-qps", "20", "--kube-burst", "20")
	written := w.waitCount(60*time.Second, 30, func() int { return w.countConfigMaps("version", "v2") })
	a2.kill()
	written = w.countConfigMaps("version", "v2")
	if written >= keep+added {
		t.Fatalf("the slow agent wrote all %d objects before it was killed; the test did not interrupt an apply", written)
	}
	st, err := w.status(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	if st.LastApplied.Commit != first {
		t.Fatalf("status after the kill says %s applied, want still %s", st.LastApplied.ShortCommit, first[:12])
	}
	t.Logf("killed the agent mid-apply: %d of %d objects of %s written", written, keep+added, second[:12])

	restarted := time.Now()
	a3 := startAgent(t, "agent-3", cfg)
	st = w.waitApplied(120*time.Second, env, second)
	t.Logf("restarted agent converged on %s in %s: changes %v", second[:12], time.Since(restarted).Round(time.Millisecond), st.LastAttempt.Changes)
	want := slices.Concat(appObjects(w.ns), bulkNames(w.ns, "keep", keep), bulkNames(w.ns, "new", added))
	slices.Sort(want)
	w.assertConverged(env, want, "v2")
	if got := st.LastAttempt.Changes["pruned"]; got != old {
		t.Errorf("pruned %d objects after the restart, want the %d removed from git", got, old)
	}

	// Killed while waiting for a rollout that never becomes ready.
	files[envPath(env, "deployment-web.yaml")] = fixture(t, "deployment-never-ready.yaml", vars)
	files[envPath(env, "bulk.yaml")] = bulkConfigMaps("keep", keep, "v3") + bulkConfigMaps("new", added, "v3")
	third := d.push(t, "a rollout that never becomes ready", files)
	a3.notifyPush(t, third)
	// The apply is recorded before the health wait begins.
	st = w.waitStatus(30*time.Second, env, "applied and waiting for health", func(st *reconcile.Status) bool {
		return st.LastApplied != nil && st.LastApplied.Commit == third && st.Health == reconcile.HealthProgressing
	})
	a3.kill()
	t.Logf("killed the agent in the health wait of %s (status: %s)", third[:12], describe(st))

	restarted = time.Now()
	startAgent(t, "agent-4", cfg)
	st = w.waitStatus(60*time.Second, env, "judged unhealthy", func(st *reconcile.Status) bool {
		return st.LastApplied != nil && st.LastApplied.Commit == third && st.Health == reconcile.HealthFailed
	})
	t.Logf("restarted agent judged %s in %s: health %s (%s)", third[:12], time.Since(restarted).Round(time.Millisecond), st.Health, st.HealthMessage)
	w.assertConverged(env, want, "v3")
	if a := st.LastAttempt; a.Commit != third || a.Result != reconcile.ResultApplied || a.Health != reconcile.HealthFailed {
		t.Errorf("last attempt = %s %s health %s, want %s Applied health Failed", a.ShortCommit, a.Result, a.Health, third[:12])
	}
}

// envWithHealthTimeout is an auto-sync environment with the given health timeout.
func envWithHealthTimeout(name string, healthTimeout time.Duration) config.Environment {
	e := autoEnv(name)
	e.HealthTimeout.Duration = healthTimeout
	return e
}

// assertConverged checks that the objects of env are exactly want, each once, in the cluster
// and in the inventory, and that every bulk ConfigMap is at version.
func (w *world) assertConverged(env string, want []string, version string) {
	w.tb.Helper()
	if diff := cmp.Diff(want, w.inventory(env)); diff != "" {
		w.tb.Errorf("inventory (-want +got):\n%s", diff)
	}
	live := w.liveObjects(env)
	if diff := cmp.Diff(want, live); diff != "" {
		w.tb.Errorf("objects of %s in the cluster (-want +got):\n%s", env, diff)
	}
	bulk := len(want) - len(appObjects(w.ns))
	if n := w.countConfigMaps("version", version); n != bulk {
		w.tb.Errorf("%d ConfigMaps at version %s, want all %d bulk ones", n, version, bulk)
	}
}

// liveObjects lists the ConfigMaps, Deployments and Services of w.ns that the agent labelled
// as env's, as sorted Kind/namespace/name ids.
func (w *world) liveObjects(env string) []string {
	w.tb.Helper()
	ctx := w.tb.Context()
	sel := metav1.ListOptions{LabelSelector: envLabelSelector(env)}
	var out []string
	cms, err := w.kube.CoreV1().ConfigMaps(w.ns).List(ctx, sel)
	if err != nil {
		w.tb.Fatal(err)
	}
	for _, o := range cms.Items {
		out = append(out, "ConfigMap/"+o.Namespace+"/"+o.Name)
	}
	deps, err := w.kube.AppsV1().Deployments(w.ns).List(ctx, sel)
	if err != nil {
		w.tb.Fatal(err)
	}
	for _, o := range deps.Items {
		out = append(out, "Deployment/"+o.Namespace+"/"+o.Name)
	}
	svcs, err := w.kube.CoreV1().Services(w.ns).List(ctx, sel)
	if err != nil {
		w.tb.Fatal(err)
	}
	for _, o := range svcs.Items {
		out = append(out, "Service/"+o.Namespace+"/"+o.Name)
	}
	slices.Sort(out)
	return out
}

// countConfigMaps counts the ConfigMaps of w.ns whose data[key] is value.
func (w *world) countConfigMaps(key, value string) int {
	w.tb.Helper()
	cms, err := w.kube.CoreV1().ConfigMaps(w.ns).List(w.tb.Context(), metav1.ListOptions{})
	if err != nil {
		w.tb.Fatal(err)
	}
	n := 0
	for _, cm := range cms.Items {
		if cm.Data[key] == value {
			n++
		}
	}
	return n
}

// waitCount waits until count() reaches at least want and returns the count.
func (w *world) waitCount(timeout time.Duration, want int, count func() int) int {
	w.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := count()
		if n >= want {
			return n
		}
		if time.Now().After(deadline) {
			w.tb.Fatalf("count %d did not reach %d within %s", n, want, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
