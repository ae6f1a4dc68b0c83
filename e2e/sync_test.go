package e2e_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-agent/gitops-agent/sync/inventory"
	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

// appObjects is the inventory of the app fixture in namespace.
func appObjects(namespace string, without ...string) []string {
	all := []string{
		"ConfigMap/" + namespace + "/flags",
		"ConfigMap/" + namespace + "/settings",
		"Deployment/" + namespace + "/web",
		"Service/" + namespace + "/web",
	}
	return slices.DeleteFunc(all, func(id string) bool { return slices.Contains(without, id) })
}

// withGreeting returns the app's files with the settings ConfigMap's GREETING changed.
func withGreeting(files map[string]string, env, greeting string) map[string]string {
	p := envPath(env, "configmap-settings.yaml")
	files[p] = strings.Replace(files[p], "GREETING: hello", "GREETING: "+greeting, 1)
	return files
}

func greetingIs(want string) func(*corev1.ConfigMap) bool {
	return func(cm *corev1.ConfigMap) bool { return cm != nil && cm.Data["GREETING"] == want }
}

// TestWebhookPushIsApplied: a push announced by a signed GitHub webhook reaches the cluster,
// the Environment status and the metrics.
func TestWebhookPushIsApplied(t *testing.T) {
	w := newWorld(t)
	d := newDeployments(t)
	const env = "push"
	first := d.push(t, "the app", appFiles(t, env, w.ns))
	started := time.Now()
	a := startAgent(t, "agent", agentConfig(t, d, w.agentNS, autoEnv(env)))
	st := w.waitApplied(90*time.Second, env, first)
	t.Logf("initial sync: applied %d objects %s after start", st.ManagedObjects, time.Since(started).Round(time.Millisecond))
	// The apply is recorded at once, the health verdict when the Deployment is ready.
	st = w.waitStatus(60*time.Second, env, "healthy", func(st *reconcile.Status) bool { return st.Health == reconcile.HealthReady })
	t.Logf("initial sync: healthy %s after start", time.Since(started).Round(time.Millisecond))
	if diff := cmp.Diff(appObjects(w.ns), w.inventory(env)); diff != "" {
		t.Errorf("inventory after the first sync (-want +got):\n%s", diff)
	}
	if _, err := w.kube.AppsV1().Deployments(w.ns).Get(t.Context(), "web", metav1.GetOptions{}); err != nil {
		t.Errorf("Deployment web after the first sync: %v", err)
	}
	if st.LastAttempt.Health != reconcile.HealthReady || len(st.History) != 1 {
		t.Errorf("last attempt health %s with %d history entries, want the one attempt amended to Ready", st.LastAttempt.Health, len(st.History))
	}

	files := withGreeting(appFiles(t, env, w.ns), env, "bonjour")
	second := d.push(t, "greet in French", files)
	pushed := time.Now()
	a.notifyPush(t, second)
	inCluster := w.waitConfigMap(30*time.Second, "settings", "GREETING=bonjour", greetingIs("bonjour"))
	st = w.waitApplied(30*time.Second, env, second)
	inStatus := time.Now()
	t.Logf("push→applied via GitHub webhook: %s in the cluster, %s in the Environment status",
		inCluster.Sub(pushed).Round(time.Millisecond), inStatus.Sub(pushed).Round(time.Millisecond))
	if took := inCluster.Sub(pushed); took > 15*time.Second {
		t.Errorf("push→applied took %s, want well under 15s", took)
	}

	if st.LastAttempt.Trigger != "webhook:github" {
		t.Errorf("last attempt trigger = %q, want webhook:github", st.LastAttempt.Trigger)
	}
	if diff := cmp.Diff(map[string]int{"configured": 1, "unchanged": 3}, st.LastAttempt.Changes); diff != "" {
		t.Errorf("changes of the second sync (-want +got):\n%s", diff)
	}
	if st.Pending != nil || st.ObservedCommit != second {
		t.Errorf("status after the second sync: pending %v, observed %s; want no pending commit and %s observed", st.Pending, st.ObservedCommit, second)
	}
	m := a.metrics()
	if got := sample(m, "gitops_agent_commit_to_applied_seconds", map[string]string{"trigger": "webhook:github"}); got != 1 {
		t.Errorf("gitops_agent_commit_to_applied_seconds{trigger=webhook:github} count = %v, want 1", got)
	}
	if got := sample(m, "gitops_agent_syncs_total", map[string]string{"env": env, "result": "Applied"}); got < 2 {
		t.Errorf("gitops_agent_syncs_total{env=%s,result=Applied} = %v, want at least 2", env, got)
	}
	if got := sample(m, "gitops_agent_managed_objects", map[string]string{"env": env}); got != 4 {
		t.Errorf("gitops_agent_managed_objects{env=%s} = %v, want 4", env, got)
	}
	if got := sample(m, "gitops_agent_webhook_requests_total", map[string]string{"provider": "github", "code": "202"}); got != 1 {
		t.Errorf("gitops_agent_webhook_requests_total{provider=github,code=202} = %v, want 1", got)
	}
}

// TestRemovedManifestIsPruned: an object whose manifest left git is deleted from the cluster
// and from the inventory, and nothing else is.
func TestRemovedManifestIsPruned(t *testing.T) {
	w := newWorld(t)
	d := newDeployments(t)
	const env = "prune"
	first := d.push(t, "the app", appFiles(t, env, w.ns))
	a := startAgent(t, "agent", agentConfig(t, d, w.agentNS, autoEnv(env)))
	w.waitApplied(90*time.Second, env, first)
	if w.configMap("flags") == nil {
		t.Fatal("ConfigMap flags was not applied")
	}

	second := d.push(t, "drop the feature flags",
		map[string]string{envPath(env, "kustomization.yaml"): fixture(t, "kustomization-without-flags.yaml", map[string]string{"NAMESPACE": w.ns})},
		envPath(env, "configmap-flags.yaml"))
	pushed := time.Now()
	a.notifyPush(t, second)
	gone := w.waitConfigMap(30*time.Second, "flags", "deleted", func(cm *corev1.ConfigMap) bool { return cm == nil })
	t.Logf("push→pruned: %s", gone.Sub(pushed).Round(time.Millisecond))
	st := w.waitApplied(30*time.Second, env, second)

	want := appObjects(w.ns, "ConfigMap/"+w.ns+"/flags")
	if diff := cmp.Diff(want, w.inventory(env)); diff != "" {
		t.Errorf("inventory after the prune (-want +got):\n%s", diff)
	}
	cm, err := w.kube.CoreV1().ConfigMaps(w.agentNS).Get(t.Context(), inventory.ConfigMapName(env), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cm.Annotations[inventory.AnnotationCommit]; got != second {
		t.Errorf("inventory commit annotation = %s, want %s", got, second)
	}
	if diff := cmp.Diff(map[string]int{"pruned": 1, "unchanged": 3}, st.LastAttempt.Changes); diff != "" {
		t.Errorf("changes of the pruning sync (-want +got):\n%s", diff)
	}
	if st.ManagedObjects != 3 {
		t.Errorf("status managedObjects = %d, want 3", st.ManagedObjects)
	}
	for _, name := range []string{"settings"} {
		if w.configMap(name) == nil {
			t.Errorf("ConfigMap %s, still in git, was deleted", name)
		}
	}
	if _, err := w.kube.AppsV1().Deployments(w.ns).Get(t.Context(), "web", metav1.GetOptions{}); err != nil {
		t.Errorf("Deployment web, still in git: %v", err)
	}
	if got := sample(a.metrics(), "gitops_agent_managed_objects", map[string]string{"env": env}); got != 3 {
		t.Errorf("gitops_agent_managed_objects{env=%s} = %v, want 3", env, got)
	}
}
