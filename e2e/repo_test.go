package e2e_test

import (
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/gitops-agent/gitops-agent/sync/gitserver"
)

// deployments is a test's deployments repository: a bare repository served over git smart
// HTTP on loopback, and a working clone that pushes to it over the same HTTP server, as a
// developer's clone pushes to GitHub.
type deployments struct {
	*gitserver.Repo
	// URL is the repository's URL, which the agent follows.
	URL string
}

func newDeployments(tb testing.TB) *deployments {
	tb.Helper()
	ctx := tb.Context()
	root := tb.TempDir()
	server, err := gitserver.New(ctx, root, gitserver.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	repo, err := gitserver.NewRepo(ctx, root, "deployments.git", tb.TempDir(), "")
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(server)
	tb.Cleanup(hs.Close)
	d := &deployments{Repo: repo, URL: hs.URL + "/deployments.git"}
	if err := repo.SetOrigin(ctx, d.URL); err != nil {
		tb.Fatal(err)
	}
	return d
}

// push writes files (repository path → content), removes the paths in remove, commits
// everything and pushes. It returns the new commit.
func (d *deployments) push(tb testing.TB, message string, files map[string]string, remove ...string) string {
	tb.Helper()
	for _, p := range remove {
		if err := os.Remove(filepath.Join(d.Work, filepath.FromSlash(p))); err != nil {
			tb.Fatalf("remove %s from the working clone: %v", p, err)
		}
	}
	commit, err := d.Commit(tb.Context(), message, files)
	if err != nil {
		tb.Fatal(err)
	}
	if err := d.Push(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return commit
}

// fixture returns testdata/name with ${VAR}s replaced from vars; an unknown variable fails
// the test, so a fixture never silently renders an empty value.
func fixture(tb testing.TB, name string, vars map[string]string) string {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return os.Expand(string(raw), func(k string) string {
		v, ok := vars[k]
		if !ok {
			tb.Fatalf("testdata/%s: no value for ${%s}", name, k)
		}
		return v
	})
}

// appFiles returns the files of the app fixture (testdata/app) as environment env's overlay,
// in namespace.
func appFiles(tb testing.TB, env, namespace string) map[string]string {
	tb.Helper()
	entries, err := os.ReadDir("testdata/app")
	if err != nil {
		tb.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		files[envPath(env, e.Name())] = fixture(tb, "app/"+e.Name(), map[string]string{"NAMESPACE": namespace})
	}
	return files
}

// envPath is the repository path of file in environment env's overlay.
func envPath(env, file string) string { return path.Join("environments", env, file) }
