package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitops-agent/gitops-agent/sync/webhook"
)

// triggers records the reasons it is triggered with.
type triggers struct {
	mu      sync.Mutex
	reasons []string
}

func (t *triggers) Trigger(reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reasons = append(t.reasons, reason)
}

func (t *triggers) take() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.reasons
	t.reasons = nil
	return r
}

var secrets = map[webhook.Provider][]byte{
	webhook.GitHub:  []byte("github-secret-0123"),
	webhook.GitLab:  []byte("gitlab-secret-4567"),
	webhook.Gitea:   []byte("gitea-secret-89ab"),
	webhook.Generic: []byte("generic-secret-cdef"),
}

func sign(secret []byte, body string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(body))
	return hex.EncodeToString(mac.Sum(nil))
}

const payload = `{"ref":"refs/heads/main","after":"0000000000000000000000000000000000000000"}`

type request struct {
	method  string
	path    string
	headers map[string]string
	body    string
	chunked bool // send without Content-Length
}

func TestHandler(t *testing.T) {
	big := strings.Repeat("x", 2<<20)
	tests := []struct {
		name        string
		req         request
		wantCode    int
		wantTrigger []string
	}{
		{
			name:        "github push",
			req:         request{path: "/hooks/github", body: payload, headers: map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + sign(secrets[webhook.GitHub], payload)}},
			wantCode:    http.StatusAccepted,
			wantTrigger: []string{"webhook:github"},
		},
		{
			name:        "github tag created",
			req:         request{path: "/hooks/github", body: payload, headers: map[string]string{"X-GitHub-Event": "create", "X-Hub-Signature-256": "sha256=" + sign(secrets[webhook.GitHub], payload)}},
			wantCode:    http.StatusAccepted,
			wantTrigger: []string{"webhook:github"},
		},
		{
			name:     "github ping",
			req:      request{path: "/hooks/github", body: `{"zen":"hi"}`, headers: map[string]string{"X-GitHub-Event": "ping", "X-Hub-Signature-256": "sha256=" + sign(secrets[webhook.GitHub], `{"zen":"hi"}`)}},
			wantCode: http.StatusOK,
		},
		{
			name:     "github issue event is ignored",
			req:      request{path: "/hooks/github", body: payload, headers: map[string]string{"X-GitHub-Event": "issues", "X-Hub-Signature-256": "sha256=" + sign(secrets[webhook.GitHub], payload)}},
			wantCode: http.StatusOK,
		},
		{
			name:     "github without event",
			req:      request{path: "/hooks/github", body: payload, headers: map[string]string{"X-Hub-Signature-256": "sha256=" + sign(secrets[webhook.GitHub], payload)}},
			wantCode: http.StatusBadRequest,
		},
		{
			name:     "github signed with another secret",
			req:      request{path: "/hooks/github", body: payload, headers: map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + sign([]byte("guess"), payload)}},
			wantCode: http.StatusUnauthorized,
		},
		{
			name:     "github signature of another body",
			req:      request{path: "/hooks/github", body: payload + " ", headers: map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + sign(secrets[webhook.GitHub], payload)}},
			wantCode: http.StatusUnauthorized,
		},
		{
			name:     "github signature without sha256= prefix",
			req:      request{path: "/hooks/github", body: payload, headers: map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(secrets[webhook.GitHub], payload)}},
			wantCode: http.StatusUnauthorized,
		},
		{
			name:     "github signature not hex",
			req:      request{path: "/hooks/github", body: payload, headers: map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=zz"}},
			wantCode: http.StatusUnauthorized,
		},
		{
			name:     "github without signature",
			req:      request{path: "/hooks/github", body: payload, headers: map[string]string{"X-GitHub-Event": "push"}},
			wantCode: http.StatusUnauthorized,
		},
		{
			name:     "github 2 MiB body",
			req:      request{path: "/hooks/github", body: big, headers: map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + sign(secrets[webhook.GitHub], big)}},
			wantCode: http.StatusRequestEntityTooLarge,
		},
		{
			name:     "github 2 MiB body without Content-Length",
			req:      request{path: "/hooks/github", body: big, chunked: true, headers: map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + sign(secrets[webhook.GitHub], big)}},
			wantCode: http.StatusRequestEntityTooLarge,
		},
		{
			name:     "github GET",
			req:      request{method: http.MethodGet, path: "/hooks/github"},
			wantCode: http.StatusMethodNotAllowed,
		},
		{
			name:        "gitlab push",
			req:         request{path: "/hooks/gitlab", body: payload, headers: map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": string(secrets[webhook.GitLab])}},
			wantCode:    http.StatusAccepted,
			wantTrigger: []string{"webhook:gitlab"},
		},
		{
			name:        "gitlab tag push",
			req:         request{path: "/hooks/gitlab", body: payload, headers: map[string]string{"X-Gitlab-Event": "Tag Push Hook", "X-Gitlab-Token": string(secrets[webhook.GitLab])}},
			wantCode:    http.StatusAccepted,
			wantTrigger: []string{"webhook:gitlab"},
		},
		{
			name:     "gitlab merge request is ignored",
			req:      request{path: "/hooks/gitlab", body: payload, headers: map[string]string{"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": string(secrets[webhook.GitLab])}},
			wantCode: http.StatusOK,
		},
		{
			name:     "gitlab wrong token",
			req:      request{path: "/hooks/gitlab", body: payload, headers: map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "gitlab-secret-456"}},
			wantCode: http.StatusUnauthorized,
		},
		{
			name:     "gitlab without token",
			req:      request{path: "/hooks/gitlab", body: payload, headers: map[string]string{"X-Gitlab-Event": "Push Hook"}},
			wantCode: http.StatusUnauthorized,
		},
		{
			name:     "gitlab 2 MiB body",
			req:      request{path: "/hooks/gitlab", body: big, chunked: true, headers: map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": string(secrets[webhook.GitLab])}},
			wantCode: http.StatusRequestEntityTooLarge,
		},
		{
			name:        "gitea push",
			req:         request{path: "/hooks/gitea", body: payload, headers: map[string]string{"X-Gitea-Event": "push", "X-Gitea-Signature": sign(secrets[webhook.Gitea], payload)}},
			wantCode:    http.StatusAccepted,
			wantTrigger: []string{"webhook:gitea"},
		},
		{
			name:     "gitea wrong signature",
			req:      request{path: "/hooks/gitea", body: payload, headers: map[string]string{"X-Gitea-Event": "push", "X-Gitea-Signature": sign(secrets[webhook.GitHub], payload)}},
			wantCode: http.StatusUnauthorized,
		},
		{
			name:     "gitea without signature",
			req:      request{path: "/hooks/gitea", body: payload, headers: map[string]string{"X-Gitea-Event": "push"}},
			wantCode: http.StatusUnauthorized,
		},
		{
			name:        "generic",
			req:         request{path: "/hooks/generic", body: "deploy please", headers: map[string]string{"X-Signature-256": "sha256=" + sign(secrets[webhook.Generic], "deploy please")}},
			wantCode:    http.StatusAccepted,
			wantTrigger: []string{"webhook:generic"},
		},
		{
			name:        "generic with empty body",
			req:         request{path: "/hooks/generic", headers: map[string]string{"X-Signature-256": "sha256=" + sign(secrets[webhook.Generic], "")}},
			wantCode:    http.StatusAccepted,
			wantTrigger: []string{"webhook:generic"},
		},
		{
			name:     "generic wrong signature",
			req:      request{path: "/hooks/generic", body: "deploy please", headers: map[string]string{"X-Signature-256": "sha256=" + sign(secrets[webhook.Generic], "deploy")}},
			wantCode: http.StatusUnauthorized,
		},
		{
			name:     "generic without signature",
			req:      request{path: "/hooks/generic", body: "deploy please"},
			wantCode: http.StatusUnauthorized,
		},
		{
			name:     "unknown provider",
			req:      request{path: "/hooks/bitbucket", body: payload},
			wantCode: http.StatusNotFound,
		},
		{
			name:     "provider path below the prefix",
			req:      request{path: "/hooks/github/extra", body: payload},
			wantCode: http.StatusNotFound,
		},
		{
			name:     "outside the prefix",
			req:      request{path: "/github", body: payload},
			wantCode: http.StatusNotFound,
		},
	}

	reg := prometheus.NewRegistry()
	trig := &triggers{}
	h, err := webhook.New(trig, webhook.Options{Secrets: secrets, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	wantCounts := map[string]float64{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := send(t, srv.URL, tt.req)
			if code != tt.wantCode {
				t.Errorf("status = %d (%s), want %d", code, body, tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantTrigger, trig.take()); diff != "" {
				t.Errorf("triggers (-want +got):\n%s", diff)
			}
			for p, s := range secrets {
				if strings.Contains(body, string(s)) {
					t.Errorf("answer reveals the %s secret: %q", p, body)
				}
			}
			provider := strings.TrimPrefix(tt.req.path, "/hooks/")
			if _, ok := secrets[webhook.Provider(provider)]; !ok {
				provider = "unknown"
			}
			wantCounts[fmt.Sprintf("%s/%d", provider, tt.wantCode)]++
		})
	}
	if diff := cmp.Diff(wantCounts, requestCounts(t, reg)); diff != "" {
		t.Errorf("gitops_agent_webhook_requests_total (-want +got):\n%s", diff)
	}
}

func TestHandlerUnconfiguredProviderIsNotFound(t *testing.T) {
	trig := &triggers{}
	h, err := webhook.New(trig, webhook.Options{Secrets: map[webhook.Provider][]byte{webhook.GitHub: []byte("s")}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req := request{path: "/hooks/gitlab", body: payload, headers: map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": ""}}
	if code, _ := send(t, srv.URL, req); code != http.StatusNotFound {
		t.Errorf("status = %d, want 404 for a provider without a secret", code)
	}
	if got := trig.take(); got != nil {
		t.Errorf("triggered %v", got)
	}
}

func TestNewRefusesBadSecrets(t *testing.T) {
	tests := []struct {
		name    string
		secrets map[webhook.Provider][]byte
		wantErr string
	}{
		{"none", nil, "no provider has a secret"},
		{"empty", map[webhook.Provider][]byte{webhook.GitHub: {}}, "the github secret is empty"},
		{"unknown provider", map[webhook.Provider][]byte{"bitbucket": []byte("s")}, `unknown provider "bitbucket"; use one of generic, gitea, github, gitlab`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.New(&triggers{}, webhook.Options{Secrets: tt.secrets})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadSecrets(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "github")
	empty := filepath.Join(dir, "empty")
	for path, content := range map[string]string{good: "  s3cret\n", empty: "\n"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := webhook.LoadSecrets(map[webhook.Provider]string{webhook.GitHub: good})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[webhook.Provider][]byte{webhook.GitHub: []byte("s3cret")}, got); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	for _, path := range []string{empty, filepath.Join(dir, "missing")} {
		if _, err := webhook.LoadSecrets(map[webhook.Provider]string{webhook.GitLab: path}); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadSecrets(%s) error = %v, want one naming the file", path, err)
		}
	}
}

func send(tb testing.TB, base string, r request) (int, string) {
	tb.Helper()
	code, body, err := do(base, r)
	if err != nil {
		tb.Fatal(err)
	}
	return code, body
}

// do sends r; it is safe to call from any goroutine.
func do(base string, r request) (int, string, error) {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader = strings.NewReader(r.body)
	if r.chunked {
		// Hide the length so the client sends the body chunked.
		body = io.MultiReader(bytes.NewBufferString(r.body))
	}
	req, err := http.NewRequest(method, base+r.path, body)
	if err != nil {
		return 0, "", err
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != http.MethodPost {
		return 0, "", fmt.Errorf("405 without Allow: POST")
	}
	return resp.StatusCode, string(data), nil
}

// requestCounts returns gitops_agent_webhook_requests_total by
// "provider/code".
func requestCounts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range families {
		if mf.GetName() != "gitops_agent_webhook_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["provider"]+"/"+labels["code"]] = m.GetCounter().GetValue()
		}
	}
	return out
}
