package e2e_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gitops-agent/gitops-agent/config"
	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

// TestManualSync: in manual mode a valid commit is reported as pending and changes nothing in
// the cluster until `gitops-agent sync ENV` asks for it.
func TestManualSync(t *testing.T) {
	w := newWorld(t)
	d := newDeployments(t)
	const env = "manual"
	first := d.push(t, "the app", appFiles(t, env, w.ns))
	a := startAgent(t, "agent", agentConfig(t, d, w.agentNS, config.Environment{Name: env, Sync: config.SyncManual}))

	st := w.waitResult(60*time.Second, env, first, reconcile.ResultPending)
	if st.Pending == nil || st.Pending.Commit != first || st.LastApplied != nil {
		t.Errorf("status of a never synced manual environment: %s; want %s pending and nothing applied", describe(st), first[:12])
	}
	if w.configMap("settings") != nil {
		t.Fatal("ConfigMap settings exists before any sync was requested")
	}

	out := syncCommand(t, w, env)
	t.Logf("gitops-agent sync %s: %s", env, out)
	w.waitApplied(30*time.Second, env, first)
	if w.configMap("settings") == nil {
		t.Fatal("ConfigMap settings missing after the sync")
	}

	second := d.push(t, "greet in Dutch", withGreeting(appFiles(t, env, w.ns), env, "hallo"))
	a.notifyPush(t, second)
	st = w.waitResult(30*time.Second, env, second, reconcile.ResultPending)
	if st.Pending == nil || st.Pending.Commit != second || st.LastApplied.Commit != first {
		t.Errorf("status with a new commit: %s; want %s pending and %s applied", describe(st), second[:12], first[:12])
	}
	// Give a wrongly eager agent time to apply anyway.
	time.Sleep(2 * time.Second)
	if cm := w.configMap("settings"); cm.Data["GREETING"] != "hello" {
		t.Fatalf("GREETING = %q before the sync was requested, want hello", cm.Data["GREETING"])
	}

	requested := time.Now()
	syncCommand(t, w, env)
	w.waitConfigMap(30*time.Second, "settings", "GREETING=hallo", greetingIs("hallo"))
	st = w.waitApplied(30*time.Second, env, second)
	t.Logf("sync request→applied: %s", time.Since(requested).Round(time.Millisecond))
	if st.Pending != nil {
		t.Errorf("pending after the sync = %+v, want none", st.Pending)
	}
	if got := sample(a.metrics(), "gitops_agent_syncs_total", map[string]string{"env": env, "result": "Pending"}); got < 2 {
		t.Errorf("gitops_agent_syncs_total{env=%s,result=Pending} = %v, want at least 2", env, got)
	}
	if cm := w.configMap("flags"); cm == nil {
		t.Error("ConfigMap flags missing after the sync")
	}
}

// syncCommand runs `gitops-agent sync --wait` for env and returns its output; it fails the
// test unless the agent applied the environment.
func syncCommand(t *testing.T, w *world, env string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, agentBin, "sync", "--kubeconfig", cluster.KubeconfigPath(), "--namespace", w.agentNS, "--wait", "60s", env)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gitops-agent sync %s: %v\n%s", env, err, out)
	}
	if !strings.Contains(string(out), env+": Applied") {
		t.Fatalf("gitops-agent sync %s did not report the environment applied:\n%s", env, out)
	}
	return strings.TrimSpace(string(out))
}
