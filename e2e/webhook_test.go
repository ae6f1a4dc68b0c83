package e2e_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"
)

// TestBadWebhooksAreRefused: requests that are not signed GitHub pushes are refused with the
// right status, counted, and trigger no fetch; the agent keeps serving.
func TestBadWebhooksAreRefused(t *testing.T) {
	w := newWorld(t)
	d := newDeployments(t)
	const env = "hooks"
	first := d.push(t, "the app", appFiles(t, env, w.ns))
	a := startAgent(t, "agent", agentConfig(t, d, w.agentNS, autoEnv(env)))
	w.waitApplied(60*time.Second, env, first)
	fetchesBefore := sample(a.metrics(), "gitops_agent_git_fetch_duration_seconds", nil)

	body := githubPush(first)
	huge := bytes.Repeat([]byte("x"), 2<<20)
	tests := []struct {
		name     string
		provider string
		body     []byte
		headers  map[string]string
		want     int
	}{
		{"wrong signature", "github", body, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": githubSignature("not-the-secret", body)}, http.StatusUnauthorized},
		{"signature of another body", "github", body, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": githubSignature(webhookSecret, []byte("{}"))}, http.StatusUnauthorized},
		{"no signature", "github", body, map[string]string{"X-GitHub-Event": "push"}, http.StatusUnauthorized},
		{"2 MiB body", "github", huge, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": githubSignature(webhookSecret, huge)}, http.StatusRequestEntityTooLarge},
		{"unknown provider", "bitbucket", body, map[string]string{"X-Hub-Signature-256": githubSignature(webhookSecret, body)}, http.StatusNotFound},
		{"provider without a secret", "gitlab", body, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": webhookSecret}, http.StatusNotFound},
		{"ping", "github", body, map[string]string{"X-GitHub-Event": "ping", "X-Hub-Signature-256": githubSignature(webhookSecret, body)}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.hook(t, tt.provider, tt.body, tt.headers); got != tt.want {
				t.Errorf("POST /hooks/%s: status %d, want %d", tt.provider, got, tt.want)
			}
		})
	}

	m := a.metrics()
	for _, c := range []struct {
		provider, code string
		want           float64
	}{
		{"github", "401", 3}, {"github", "413", 1}, {"github", "200", 1}, {"unknown", "404", 1}, {"gitlab", "404", 1},
	} {
		if got := sample(m, "gitops_agent_webhook_requests_total", map[string]string{"provider": c.provider, "code": c.code}); got != c.want {
			t.Errorf("gitops_agent_webhook_requests_total{provider=%s,code=%s} = %v, want %v", c.provider, c.code, got, c.want)
		}
	}
	// Fetches are asynchronous: give a wrongly triggered one time to show.
	time.Sleep(time.Second)
	if got := sample(a.metrics(), "gitops_agent_git_fetch_duration_seconds", nil); got != fetchesBefore {
		t.Errorf("refused webhooks triggered %v fetches", got-fetchesBefore)
	}
	// A good webhook still works.
	second := d.push(t, "after the bad webhooks", withGreeting(appFiles(t, env, w.ns), env, "still here"))
	a.notifyPush(t, second)
	w.waitApplied(30*time.Second, env, second)
}
