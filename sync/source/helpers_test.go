package source_test

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/gitops-agent/gitops-agent/sync/gitserver"
	"github.com/gitops-agent/gitops-agent/sync/source"
)

// remote is a repository served over real git smart HTTP, counting the
// requests it receives.
type remote struct {
	repo     *gitserver.Repo
	server   *httptest.Server
	URL      string
	requests atomic.Int64
}

type remoteOptions struct {
	server gitserver.Options
	tls    bool
}

func newRemote(t testing.TB, opts remoteOptions) *remote {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	srv, err := gitserver.New(ctx, root, opts.server)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := gitserver.NewRepo(ctx, root, "app.git", t.TempDir(), "testdata/site")
	if err != nil {
		t.Fatal(err)
	}
	r := &remote{repo: repo}
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		srv.ServeHTTP(w, req)
	})
	r.server = httptest.NewUnstartedServer(h)
	// Failed TLS handshakes are expected in some tests; keep them quiet.
	r.server.Config.ErrorLog = log.New(io.Discard, "", 0)
	if opts.tls {
		r.server.StartTLS()
	} else {
		r.server.Start()
	}
	t.Cleanup(r.server.Close)
	r.URL = r.server.URL + "/app.git"
	return r
}

// caFile writes the TLS server's certificate where GitOptions.CAFile can
// read it.
func (r *remote) caFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.server.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (r *remote) commitAndPush(t testing.TB, files map[string]string) string {
	t.Helper()
	ctx := context.Background()
	head, err := r.repo.Commit(ctx, "change", files)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.repo.Push(ctx); err != nil {
		t.Fatal(err)
	}
	return head
}

func (r *remote) git(t testing.TB, args ...string) string {
	t.Helper()
	out, err := r.repo.Git(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (r *remote) push(t testing.TB) {
	t.Helper()
	if err := r.repo.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func newGit(t testing.TB, opts source.GitOptions) *source.Git {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	g, err := source.NewGit(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func writeFile(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
