package e2e_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

// dbPassword is the literal password one refused commit writes into a manifest; it must not
// reach the status, the events or the agent's log.
const dbPassword = "e2e-hunter2-literal-password"

// TestRefusedCommitsKeepTheLastGoodOne: a commit that does not render, or that a deny rule
// refuses, changes nothing in the cluster (no apply, no prune) and is reported with the file or
// rule at fault; the environment stays on its last good commit until a good one arrives.
func TestRefusedCommitsKeepTheLastGoodOne(t *testing.T) {
	w := newWorld(t)
	d := newDeployments(t)
	const env = "refuse"
	vars := map[string]string{"NAMESPACE": w.ns, "DB_PASSWORD": dbPassword}
	good := d.push(t, "the app", appFiles(t, env, w.ns))
	a := startAgent(t, "agent", agentConfig(t, d, w.agentNS, autoEnv(env)))
	w.waitApplied(90*time.Second, env, good)
	webBefore, err := w.kube.AppsV1().Deployments(w.ns).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Each refused commit also edits a ConfigMap and drops flags from the kustomization: were
	// anything applied or pruned, the cluster would show it.
	withoutFlags := fixture(t, "kustomization-without-flags.yaml", vars)
	refused := []struct {
		name   string
		files  map[string]string
		result reconcile.Result
		// wantInMessage names the file or rule at fault.
		wantInMessage string
		wantRule      string
	}{
		{
			name: "kustomization names a missing file",
			files: map[string]string{
				envPath(env, "kustomization.yaml"): fixture(t, "kustomization-broken.yaml", vars),
			},
			result:        reconcile.ResultRenderFailed,
			wantInMessage: "configmap-missing.yaml",
		},
		{
			name: "literal DB_PASSWORD",
			files: map[string]string{
				envPath(env, "kustomization.yaml"):  withoutFlags,
				envPath(env, "deployment-web.yaml"): fixture(t, "deployment-secret-env.yaml", vars),
			},
			result:   reconcile.ResultInvalid,
			wantRule: "no-secret-env",
		},
		{
			name: "latest image tag",
			files: map[string]string{
				envPath(env, "kustomization.yaml"):  withoutFlags,
				envPath(env, "deployment-web.yaml"): fixture(t, "deployment-latest-image.yaml", vars),
			},
			result:   reconcile.ResultInvalid,
			wantRule: "image-tag",
		},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			files := withGreeting(appFiles(t, env, w.ns), env, "refused")
			for p, content := range tt.files {
				files[p] = content
			}
			commit := d.push(t, tt.name, files)
			a.notifyPush(t, commit)
			st := w.waitResult(30*time.Second, env, commit, tt.result)

			if st.LastApplied == nil || st.LastApplied.Commit != good {
				t.Errorf("last applied = %v, want the last good commit %s", st.LastApplied, good[:12])
			}
			if st.Pending == nil || st.Pending.Commit != commit || !strings.HasPrefix(st.Pending.Reason, string(tt.result)) {
				t.Errorf("pending = %+v, want %s with reason %s: ...", st.Pending, commit[:12], tt.result)
			}
			if tt.wantInMessage != "" && !strings.Contains(st.LastAttempt.Message, tt.wantInMessage) {
				t.Errorf("message %q does not name %s", st.LastAttempt.Message, tt.wantInMessage)
			}
			if tt.wantRule != "" {
				rules := make([]string, len(st.LastAttempt.Violations))
				for i, v := range st.LastAttempt.Violations {
					rules[i] = v.Rule
					if !strings.HasSuffix(v.Object, "/"+w.ns+"/web") || v.Source == "" || v.Field == "" {
						t.Errorf("violation %+v does not name the object, its file and the field", v)
					}
				}
				if !slices.Contains(rules, tt.wantRule) {
					t.Errorf("violations %+v lack rule %s", st.LastAttempt.Violations, tt.wantRule)
				}
				m := a.metrics()
				if got := sample(m, "gitops_agent_policy_findings", map[string]string{"env": env, "rule": tt.wantRule, "severity": "deny"}); got < 1 {
					t.Errorf("gitops_agent_policy_findings{env=%s,rule=%s,severity=deny} = %v, want at least 1", env, tt.wantRule, got)
				}
			}
			t.Logf("%s: %s: %s", commit[:12], st.LastAttempt.Result, st.LastAttempt.Message)

			if cm := w.configMap("settings"); cm == nil || cm.Data["GREETING"] != "hello" {
				t.Errorf("ConfigMap settings changed by a refused commit: %v", cm)
			}
			if w.configMap("flags") == nil {
				t.Error("ConfigMap flags was pruned by a refused commit")
			}
			if diff := cmp.Diff(appObjects(w.ns), w.inventory(env)); diff != "" {
				t.Errorf("inventory changed by a refused commit (-want +got):\n%s", diff)
			}
			web, err := w.kube.AppsV1().Deployments(w.ns).Get(t.Context(), "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if web.Generation != webBefore.Generation {
				t.Errorf("Deployment web changed by a refused commit: generation %d, was %d", web.Generation, webBefore.Generation)
			}
		})
	}

	m := a.metrics()
	for result, want := range map[string]float64{"RenderFailed": 1, "Invalid": 2} {
		if got := sample(m, "gitops_agent_syncs_total", map[string]string{"env": env, "result": result}); got != want {
			t.Errorf("gitops_agent_syncs_total{env=%s,result=%s} = %v, want %v", env, result, got, want)
		}
	}
	assertNoSecret(t, w, a, env)

	// A good commit after the refused ones applies, including the prune they held back.
	files := withGreeting(appFiles(t, env, w.ns), env, "restored")
	files[envPath(env, "kustomization.yaml")] = withoutFlags
	restored := d.push(t, "fix the deployment", files)
	a.notifyPush(t, restored)
	w.waitConfigMap(30*time.Second, "settings", "GREETING=restored", greetingIs("restored"))
	w.waitConfigMap(30*time.Second, "flags", "pruned", func(cm *corev1.ConfigMap) bool { return cm == nil })
	st := w.waitApplied(30*time.Second, env, restored)
	if st.Pending != nil {
		t.Errorf("pending after the fix = %+v, want none", st.Pending)
	}
	if got := sample(a.metrics(), "gitops_agent_policy_findings", map[string]string{"env": env, "severity": "deny"}); got != 0 {
		t.Errorf("gitops_agent_policy_findings{env=%s,severity=deny} after the fix = %v, want 0", env, got)
	}
}

// assertNoSecret checks that the literal password of a refused commit appears in none of the
// places a person reads: the Environment, its Events, /status and the agent's log.
func assertNoSecret(t *testing.T, w *world, a *agent, env string) {
	t.Helper()
	obj, err := w.dyn.Resource(reconcile.EnvironmentGVR).Namespace(w.agentNS).Get(t.Context(), env, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	events, err := w.kube.CoreV1().Events(w.agentNS).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status, err := a.get(t.Context(), "/status")
	if err != nil {
		t.Fatal(err)
	}
	places := map[string]string{"Environment object": string(raw), "/status": string(status), "agent log": strings.Join(a.logs.lines(), "\n")}
	for _, e := range events.Items {
		places["Event "+e.Name] = e.Message
	}
	for where, text := range places {
		if strings.Contains(text, dbPassword) {
			t.Errorf("the literal password appears in the %s", where)
		}
	}
}
