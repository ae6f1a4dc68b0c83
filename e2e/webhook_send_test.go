package e2e_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
)

// githubPush is the body of a GitHub push webhook, reduced to what identifies the push. The
// agent never trusts it: it fetches and sees for itself.
func githubPush(commit string) []byte {
	return fmt.Appendf(nil, `{"ref":"refs/heads/main","after":%q,"repository":{"full_name":"e2e/deployments"}}`, commit)
}

// githubSignature is the X-Hub-Signature-256 GitHub sends: the HMAC-SHA256 of the body.
func githubSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// hook POSTs body to the agent's /hooks/<provider> with headers and returns the status code.
func (a *agent) hook(tb testing.TB, provider string, body []byte, headers map[string]string) int {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, "http://"+a.addr+"/hooks/"+provider, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST /hooks/%s: %v", provider, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// notifyPush sends the signed GitHub push webhook for commit and fails the test unless the
// agent accepts it (202).
func (a *agent) notifyPush(tb testing.TB, commit string) {
	tb.Helper()
	body := githubPush(commit)
	code := a.hook(tb, "github", body, map[string]string{
		"X-GitHub-Event":      "push",
		"X-GitHub-Delivery":   "e2e-" + commit[:12],
		"X-Hub-Signature-256": githubSignature(webhookSecret, body),
	})
	if code != http.StatusAccepted {
		tb.Fatalf("GitHub push webhook for %s: status %d, want 202", commit[:12], code)
	}
}
