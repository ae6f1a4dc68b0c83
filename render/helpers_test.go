package render

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// newRepo returns a temporary repository directory holding testdata/repo with each of
// the given testdata/cases/<name> trees copied over it.
func newRepo(t testing.TB, cases ...string) string {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, filepath.Join("testdata", "repo"), dir)
	for _, c := range cases {
		copyTree(t, filepath.Join("testdata", "cases", c), dir)
	}
	return dir
}

func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}

func writeFile(t testing.TB, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t testing.TB, root, rel, target string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// commitAll commits the whole working tree of dir (initialising the repository on first
// use) and returns the repository and the new commit.
func commitAll(t testing.TB, dir, message string) (*git.Repository, plumbing.Hash) {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		if repo, err = git.PlainInit(dir, false); err != nil {
			t.Fatal(err)
		}
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit(message, &git.CommitOptions{
		AllowEmptyCommits: true,
		Author:            &object.Signature{Name: "test", Email: "test@example.com", When: time.Unix(1700000000, 0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return repo, h
}

// bareCopy copies every object of repo into a new bare repository: what the agent has
// after a fetch, with no working tree at all.
func bareCopy(t testing.TB, repo *git.Repository) *git.Repository {
	t.Helper()
	bare, err := git.PlainInit(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	iter, err := repo.Storer.IterEncodedObjects(plumbing.AnyObject)
	if err != nil {
		t.Fatal(err)
	}
	err = iter.ForEach(func(o plumbing.EncodedObject) error {
		_, err := bare.Storer.SetEncodedObject(o)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return bare
}

// source renders an environment of a repository directory either from the directory or
// from a commit of it in a bare repository, so that every test runs against both.
type source struct {
	name   string
	render func(t testing.TB, r *Renderer, dir, env string) (*Result, error)
}

var sources = []source{
	{"dir", func(t testing.TB, r *Renderer, dir, env string) (*Result, error) {
		return r.RenderDir(t.Context(), dir, env)
	}},
	{"commit", func(t testing.TB, r *Renderer, dir, env string) (*Result, error) {
		repo, h := commitAll(t, dir, "render test")
		return r.RenderCommit(t.Context(), bareCopy(t, repo), h, env)
	}},
}

func sourcesOf(objs []Object) map[string]string {
	out := map[string]string{}
	for _, o := range objs {
		out[o.Ref().String()] = o.Source
	}
	return out
}

func errorPath(err error) (string, int) {
	if e, ok := err.(*Error); ok {
		return e.Path, e.Line
	}
	return "", 0
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
