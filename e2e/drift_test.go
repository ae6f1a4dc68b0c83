package e2e_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

// secretValue is the value an out-of-band edit gives the app's Secret: it must appear nowhere
// the agent reports drift.
const secretValue = "e2e-rotated-by-hand-4f1c"

// appWithSecret returns the app fixture with a Secret added to env's overlay.
func appWithSecret(tb testing.TB, env, namespace string) map[string]string {
	files := appFiles(tb, env, namespace)
	files[envPath(env, "secret-db.yaml")] = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: from-git\n"
	k := envPath(env, "kustomization.yaml")
	files[k] = strings.Replace(files[k], "  - service-web.yaml\n", "  - service-web.yaml\n  - secret-db.yaml\n", 1)
	return files
}

// driftOf returns the drift items of env's status as "Object Type path,path".
func driftOf(st *reconcile.Status) []string {
	if st.Drift == nil {
		return nil
	}
	var out []string
	for _, item := range st.Drift.Items {
		out = append(out, item.Object+" "+item.Type+" "+strings.Join(item.Paths, ","))
	}
	return out
}

// TestDriftIsReportedAndExplained: an edit by another field manager to a field the agent
// applied is reported in the status, the metrics, an Event and `gitops-agent diff`; an edit
// of a field the agent does not own is not drift; a Secret's new value appears nowhere.
func TestDriftIsReportedAndExplained(t *testing.T) {
	w := newWorld(t)
	d := newDeployments(t)
	const env = "drift"
	first := d.push(t, "the app", appWithSecret(t, env, w.ns))
	a := startAgent(t, "agent", agentConfig(t, d, w.agentNS, autoEnv(env)))
	w.waitApplied(90*time.Second, env, first)

	ctx := t.Context()
	patch := func(kind, name, body string) {
		t.Helper()
		var err error
		opts := metav1.PatchOptions{FieldManager: "sre-on-call"}
		switch kind {
		case "ConfigMap":
			_, err = w.kube.CoreV1().ConfigMaps(w.ns).Patch(ctx, name, types.MergePatchType, []byte(body), opts)
		case "Secret":
			_, err = w.kube.CoreV1().Secrets(w.ns).Patch(ctx, name, types.MergePatchType, []byte(body), opts)
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	// A field the agent does not own: no drift.
	patch("ConfigMap", "settings", `{"metadata":{"annotations":{"oncall.example.org/note":"looked at it"}}}`)
	patched := time.Now()
	patch("ConfigMap", "settings", `{"data":{"GREETING":"hacked"}}`)
	st := w.waitStatus(10*time.Second, env, "drifted", func(st *reconcile.Status) bool { return st.Drift != nil })
	t.Logf("out-of-band edit → drift in the Environment status: %s", time.Since(patched).Round(time.Millisecond))
	want := []string{"ConfigMap/" + w.ns + "/settings Modified /data/GREETING"}
	if got := driftOf(st); !slices.Equal(got, want) {
		t.Errorf("drift = %q, want %q (the annotation is not the agent's field)", got, want)
	}
	if m := st.Drift.Items[0].Managers; !slices.Contains(m, "sre-on-call") {
		t.Errorf("drift managers = %q, want sre-on-call named", m)
	}
	if got := sample(a.metrics(), "gitops_agent_drift_objects", map[string]string{"env": env, "kind": "ConfigMap"}); got != 1 {
		t.Errorf("gitops_agent_drift_objects{kind=ConfigMap} = %v, want 1", got)
	}
	w.waitEvent(10*time.Second, env, "DriftDetected", "/data/GREETING")

	patch("Secret", "db", `{"stringData":{"password":"`+secretValue+`"}}`)
	st = w.waitStatus(10*time.Second, env, "drifted in its Secret", func(st *reconcile.Status) bool { return st.Drift != nil && st.Drift.Objects == 2 })
	if got := driftOf(st); !slices.Contains(got, "Secret/"+w.ns+"/db Modified /data/password") {
		t.Errorf("drift = %q, want the Secret's /data/password", got)
	}

	out, code := agentCommand(t, "diff", "--kubeconfig", cluster.KubeconfigPath(), "--namespace", w.agentNS, "--env", env, "--repo", d.Work)
	if code != 1 {
		t.Errorf("gitops-agent diff exit code = %d, want 1 (drift)\n%s", code, out)
	}
	for _, part := range []string{"ConfigMap/" + w.ns + "/settings", "-  GREETING: hello", "+  GREETING: hacked", "Secret/" + w.ns + "/db", "(redacted"} {
		if !strings.Contains(out, part) {
			t.Errorf("gitops-agent diff output lacks %q:\n%s", part, out)
		}
	}

	// The Secret's value: nowhere.
	statusJSON, _ := json.Marshal(st)
	metricsText, err := a.get(ctx, "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	events, err := w.kube.CoreV1().Events(w.agentNS).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventsJSON, _ := json.Marshal(events)
	for where, text := range map[string]string{
		"status": string(statusJSON), "metrics": string(metricsText), "events": string(eventsJSON),
		"diff output": out, "agent log": strings.Join(a.logs.lines(), "\n"),
	} {
		if strings.Contains(text, secretValue) {
			t.Errorf("the Secret's value appears in the %s", where)
		}
	}

	// Undoing the edit by hand resolves the drift.
	patch("ConfigMap", "settings", `{"data":{"GREETING":"hello"}}`)
	w.waitStatus(10*time.Second, env, "drifted in its Secret only", func(st *reconcile.Status) bool { return st.Drift != nil && st.Drift.Objects == 1 })
}

// TestSelfHealRestoresDeletedObject: with selfHeal on, a deleted object is re-created and an
// edited one restored, and the status ends with no drift.
func TestSelfHealRestoresDeletedObject(t *testing.T) {
	w := newWorld(t)
	d := newDeployments(t)
	const env = "heal"
	first := d.push(t, "the app", appFiles(t, env, w.ns))
	e := autoEnv(env)
	e.Drift.SelfHeal = true
	startAgent(t, "agent", agentConfig(t, d, w.agentNS, e))
	w.waitApplied(90*time.Second, env, first)

	ctx := t.Context()
	deleted := time.Now()
	if err := w.kube.CoreV1().ConfigMaps(w.ns).Delete(ctx, "flags", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	back := w.waitConfigMap(10*time.Second, "flags", "re-created", func(cm *corev1.ConfigMap) bool { return cm != nil })
	t.Logf("deleted → healed (re-created): %s", back.Sub(deleted).Round(time.Millisecond))

	edited := time.Now()
	if _, err := w.kube.CoreV1().ConfigMaps(w.ns).Patch(ctx, "settings", types.MergePatchType, []byte(`{"data":{"GREETING":"hacked"}}`), metav1.PatchOptions{FieldManager: "sre-on-call"}); err != nil {
		t.Fatal(err)
	}
	healed := w.waitConfigMap(10*time.Second, "settings", "restored", greetingIs("hello"))
	t.Logf("edited → healed: %s", healed.Sub(edited).Round(time.Millisecond))
	w.waitStatus(10*time.Second, env, "without drift", func(st *reconcile.Status) bool { return st.Drift == nil })
}

// waitEvent waits for an Event on env's Environment with reason whose message contains part.
func (w *world) waitEvent(timeout time.Duration, env, reason, part string) {
	w.tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		events, err := w.kube.CoreV1().Events(w.agentNS).List(w.tb.Context(), metav1.ListOptions{FieldSelector: "involvedObject.name=" + env})
		if err == nil {
			for _, e := range events.Items {
				if e.Reason == reason && strings.Contains(e.Message, part) {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.tb.Errorf("no Event %s naming %q on Environment %s within %s", reason, part, env, timeout)
}
