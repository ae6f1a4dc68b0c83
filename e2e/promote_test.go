package e2e_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-agent/gitops-agent/config"
	"github.com/gitops-agent/gitops-agent/promote"
	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

// promotedApp returns the app fixture with its Service web made the router of a blue/green
// environment.
func promotedApp(tb testing.TB, env, namespace string) map[string]string {
	files := appFiles(tb, env, namespace)
	p := envPath(env, "service-web.yaml")
	files[p] = strings.Replace(files[p], "  name: web\n", "  name: web\n  annotations:\n    promote.gitops-agent.io/router: \"true\"\n", 1)
	return files
}

// TestPromotionByTag drives blue/green promotion the way a release manager does, through the
// CLI: `gitops-agent promote` pushes a tag, the agent deploys the commit beside the live
// colour and switches the router; `gitops-agent rollback` switches back at once.
func TestPromotionByTag(t *testing.T) {
	w := newWorld(t)
	d := newDeployments(t)
	const env = "bg"
	first := d.push(t, "the app", promotedApp(t, env, w.ns))
	e := autoEnv(env)
	e.Promotion = &config.Promotion{Strategy: config.StrategyBlueGreen}
	cfg := agentConfig(t, d, w.agentNS, e)
	// Tags pushed by the CLI reach the agent by polling here, as they do without webhooks.
	cfg.Repo.PollInterval = config.Duration{Duration: time.Second}
	startAgent(t, "agent", cfg)
	// The branch alone deploys nothing: a promoted environment follows its tags.
	w.waitStatus(60*time.Second, env, "observing the branch", func(st *reconcile.Status) bool { return st.ObservedCommit == first })
	if _, err := w.kube.AppsV1().Deployments(w.ns).Get(t.Context(), "web-blue", metav1.GetOptions{}); err == nil {
		t.Fatal("Deployment web-blue exists before any promotion")
	}

	started := time.Now()
	out, code := agentCommand(t, "promote", "--repo", d.Work, "--name", "first", "--kubeconfig", cluster.KubeconfigPath(), "--namespace", w.agentNS, "--wait", "90s", env, "HEAD")
	if code != 0 || !strings.Contains(out, "promoted as blue") {
		t.Fatalf("gitops-agent promote (exit %d) did not report the promotion:\n%s", code, out)
	}
	t.Logf("first promotion, tag pushed → live: %s", time.Since(started).Round(time.Millisecond))
	w.waitRouter("web", promote.Blue)

	second := d.push(t, "greet in French", withGreeting(promotedApp(t, env, w.ns), env, "bonjour"))
	started = time.Now()
	out, code = agentCommand(t, "promote", "--repo", d.Work, "--name", "second", "--kubeconfig", cluster.KubeconfigPath(), "--namespace", w.agentNS, "--wait", "90s", env, second)
	if code != 0 || !strings.Contains(out, "promoted as green") {
		t.Fatalf("gitops-agent promote (exit %d) did not report the second promotion:\n%s", code, out)
	}
	t.Logf("second promotion (blue live, green deployed, checked and switched): %s", time.Since(started).Round(time.Millisecond))
	w.waitRouter("web", promote.Green)
	st := w.waitStatus(10*time.Second, env, "running the second commit", func(st *reconcile.Status) bool {
		return st.LastApplied != nil && st.LastApplied.Commit == second && st.Promotion != nil && st.Promotion.Previous != nil
	})
	if p := st.Promotion.Previous; p.Commit != first || p.Color != promote.Blue {
		t.Errorf("previous release = %+v, want blue at %s", p, first[:12])
	}

	started = time.Now()
	out, code = agentCommand(t, "rollback", "--kubeconfig", cluster.KubeconfigPath(), "--namespace", w.agentNS, "--wait", "60s", env)
	if code != 0 || !strings.Contains(out, "rolled-back") {
		t.Fatalf("gitops-agent rollback (exit %d) did not report the rollback:\n%s", code, out)
	}
	t.Logf("rollback within the window: %s", time.Since(started).Round(time.Millisecond))
	w.waitRouter("web", promote.Blue)

	// The live colour runs its commit: nothing drifted, although the other colour and the
	// preview are there too.
	out, code = agentCommand(t, "diff", "--kubeconfig", cluster.KubeconfigPath(), "--namespace", w.agentNS, "--env", env, "--repo", d.Work)
	if code != 0 {
		t.Errorf("gitops-agent diff after the rollback: exit %d, want 0 (no drift)\n%s", code, out)
	}
	if st := w.waitStatus(10*time.Second, env, "back on blue", func(st *reconcile.Status) bool { return st.LastApplied != nil && st.LastApplied.Commit == first }); st.Drift != nil {
		t.Errorf("drift after the rollback: %q, want none", driftOf(st))
	}

	out, code = agentCommand(t, "status", "--kubeconfig", cluster.KubeconfigPath(), "--namespace", w.agentNS, env)
	if code != 0 {
		t.Fatalf("gitops-agent status: exit %d\n%s", code, out)
	}
	for _, part := range []string{"promotion: Live", "rolled-back", "promoted", "bg/first", "bg/second"} {
		if !strings.Contains(out, part) {
			t.Errorf("gitops-agent status lacks %q:\n%s", part, out)
		}
	}
}

// waitRouter waits until Service name selects color.
func (w *world) waitRouter(name string, color promote.Color) {
	w.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		svc, err := w.kube.CoreV1().Services(w.ns).Get(w.tb.Context(), name, metav1.GetOptions{})
		if err == nil {
			if got = svc.Spec.Selector[promote.LabelColor]; got == string(color) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.tb.Fatalf("Service %s selects colour %q, want %q", name, got, color)
}

// agentCommand runs the gitops-agent CLI and returns its output and exit code.
func agentCommand(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, agentBin, args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		t.Fatalf("gitops-agent %s: %v\n%s", strings.Join(args, " "), err, out)
		return "", 0
	}
}
