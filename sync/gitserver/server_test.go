package gitserver_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-agent/gitops-agent/sync/gitserver"
)

func newServer(t *testing.T, opts gitserver.Options) (*gitserver.Server, *httptest.Server) {
	t.Helper()
	srv, err := gitserver.New(t.Context(), t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs
}

func cloneOverHTTP(ctx context.Context, t *testing.T, url string) (*gitserver.Repo, error) {
	t.Helper()
	clone := &gitserver.Repo{Work: t.TempDir(), Branch: gitserver.DefaultBranch}
	_, err := clone.Git(ctx, "clone", "--quiet", url, ".")
	return clone, err
}

func TestServerCloneAndPushOverHTTP(t *testing.T) {
	ctx := t.Context()
	srv, hs := newServer(t, gitserver.Options{})
	repo, err := gitserver.NewRepo(ctx, srv.Root(), "team/app.git", t.TempDir(), "testdata/site")
	if err != nil {
		t.Fatal(err)
	}
	url := hs.URL + "/team/app.git"

	clone, err := cloneOverHTTP(ctx, t, url)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(clone.Work, "apps/web/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "resources:\n- configmap.yaml\n"; string(got) != want {
		t.Errorf("cloned kustomization.yaml = %q, want %q", got, want)
	}

	// Push through receive-pack over HTTP, then check the bare repository.
	if err := repo.SetOrigin(ctx, url); err != nil {
		t.Fatal(err)
	}
	head, err := repo.Commit(ctx, "second", map[string]string{"apps/web/extra.yaml": "x: 1\n"})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Tag(ctx, "prod/v1", head, "release v1"); err != nil {
		t.Fatal(err)
	}
	if err := repo.Push(ctx); err != nil {
		t.Fatal(err)
	}
	remote, err := clone.Git(ctx, "ls-remote", url)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{head + "\trefs/heads/main", head + "\trefs/tags/prod/v1^{}"} {
		if !strings.Contains(remote, want) {
			t.Errorf("ls-remote after push lacks %q:\n%s", want, remote)
		}
	}

	// A tag deleted locally disappears from the server on the next push.
	if err := repo.DeleteTag(ctx, "prod/v1"); err != nil {
		t.Fatal(err)
	}
	if err := repo.Push(ctx); err != nil {
		t.Fatal(err)
	}
	remote, err = clone.Git(ctx, "ls-remote", "--tags", url)
	if err != nil {
		t.Fatal(err)
	}
	if remote != "" {
		t.Errorf("ls-remote --tags after deleting the tag = %q, want nothing", remote)
	}
}

func TestServerTokenAuth(t *testing.T) {
	const token = "s3cr3t-token"
	ctx := t.Context()
	srv, hs := newServer(t, gitserver.Options{Username: "agent", Token: token})
	if _, err := gitserver.NewRepo(ctx, srv.Root(), "app.git", t.TempDir(), "testdata/site"); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(hs.URL, "http://")

	tests := []struct {
		name   string
		url    string
		wantOK bool
	}{
		{"right user and token", "http://agent:" + token + "@" + host + "/app.git", true},
		{"wrong token", "http://agent:nope@" + host + "/app.git", false},
		{"wrong user", "http://other:" + token + "@" + host + "/app.git", false},
		{"no credentials", hs.URL + "/app.git", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cloneOverHTTP(ctx, t, tt.url)
			if (err == nil) != tt.wantOK {
				t.Fatalf("clone error = %v, want success %v", err, tt.wantOK)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("error reveals the token: %v", err)
			}
		})
	}
}

func TestNewRejectsMissingRoot(t *testing.T) {
	_, err := gitserver.New(t.Context(), filepath.Join(t.TempDir(), "absent"), gitserver.Options{})
	if err == nil || !strings.Contains(err.Error(), "absent") {
		t.Fatalf("New(missing root) error = %v, want one naming the directory", err)
	}
}
