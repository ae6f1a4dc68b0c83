package e2e_test

import (
	"encoding/json"
	"testing"
	"time"
)

// TestLeaderFailover: of two agents sharing a lease exactly one applies while the other stands
// by; when the leader is SIGKILLed (it cannot release the lease), the standby takes over once
// the lease expires and applies the commits pushed meanwhile.
func TestLeaderFailover(t *testing.T) {
	w := newWorld(t)
	d := newDeployments(t)
	const env = "leader"
	first := d.push(t, "the app", appFiles(t, env, w.ns))
	cfg := agentConfig(t, d, w.agentNS, autoEnv(env))
	on := true
	cfg.LeaderElection.Enabled, cfg.LeaderElection.LeaseName = &on, "e2e-leader"

	leader := startAgent(t, "replica-a", cfg)
	leader.waitLog(60*time.Second, `msg="acquired the lease"`)
	standby := startAgent(t, "replica-b", cfg)
	standby.waitLog(60*time.Second, `msg="standing by"`, "leader=replica-a")
	w.waitApplied(90*time.Second, env, first)

	second := d.push(t, "greet in Italian", withGreeting(appFiles(t, env, w.ns), env, "ciao"))
	leader.notifyPush(t, second)
	w.waitApplied(30*time.Second, env, second)
	if n := standby.logs.count("msg=applied"); n != 0 {
		t.Errorf("the standby applied %d times while the other replica led", n)
	}
	if got := sample(standby.metrics(), "gitops_agent_syncs_total", nil); got != 0 {
		t.Errorf("the standby counts %v syncs, want 0", got)
	}
	if got := sample(leader.metrics(), "gitops_agent_syncs_total", map[string]string{"env": env, "result": "Applied"}); got < 2 {
		t.Errorf("the leader counts %v applied syncs, want at least 2", got)
	}
	// A webhook that reaches the standby (the Service balances over both replicas) is relayed
	// to the leader at once, not left to its next poll (10 minutes here).
	relayed := d.push(t, "greet in German", withGreeting(appFiles(t, env, w.ns), env, "hallo"))
	sent := time.Now()
	standby.notifyPush(t, relayed)
	w.waitApplied(15*time.Second, env, relayed)
	t.Logf("a webhook sent to the standby was applied by the leader after %s", time.Since(sent).Round(time.Millisecond))
	if n := standby.logs.count("msg=applied"); n != 0 {
		t.Errorf("the standby applied %d times while the other replica led", n)
	}

	for a, want := range map[*agent]bool{leader: true, standby: false} {
		if got := a.leading(t); got != want {
			t.Errorf("/status of %s says leader=%v, want %v", a.name, got, want)
		}
	}

	leader.kill()
	killed := time.Now()
	third := d.push(t, "greet in Spanish", withGreeting(appFiles(t, env, w.ns), env, "hola"))
	// The webhook reaches the standby, as it may during a failover; it answers, and the
	// change is picked up once it leads.
	standby.notifyPush(t, third)
	standby.waitLog(30*time.Second, `msg="acquired the lease"`, "identity=replica-b")
	tookOver := time.Since(killed)
	w.waitConfigMap(30*time.Second, "settings", "GREETING=hola", greetingIs("hola"))
	applied := time.Since(killed)
	w.waitApplied(30*time.Second, env, third)
	t.Logf("leader SIGKILLed: the standby took the lease after %s and applied the commit pushed meanwhile after %s",
		tookOver.Round(time.Millisecond), applied.Round(time.Millisecond))
	// The standby counts the 15s lease duration from when it last saw the lease renewed, and
	// looks every 2s with up to 120% jitter: a takeover comes at most 15s plus two retry
	// periods (2 × 4.4s) after the kill.
	if tookOver > 25*time.Second {
		t.Errorf("takeover took %s, want within the lease duration (15s) and two retry periods", tookOver)
	}
	if !standby.leading(t) {
		t.Error("/status of the new leader says leader=false")
	}
	if got := sample(standby.metrics(), "gitops_agent_syncs_total", map[string]string{"env": env, "result": "Applied"}); got < 1 {
		t.Errorf("the new leader counts %v applied syncs, want at least 1", got)
	}
}

// leading reads the agent's /status and returns what it says about leading.
func (a *agent) leading(tb testing.TB) bool {
	tb.Helper()
	body, err := a.get(tb.Context(), "/status")
	if err != nil {
		tb.Fatal(err)
	}
	var st struct {
		Leader bool `json:"leader"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		tb.Fatalf("decode /status of %s: %v", a.name, err)
	}
	return st.Leader
}
