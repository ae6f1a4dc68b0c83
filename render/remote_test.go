package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// With AllowRemoteBases, a remote base is cloned by kustomize (with the git binary) and
// its objects name their remote source. A file:// repository stands in for a server.
func TestRenderRemoteBaseAllowed(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("kustomize clones remote bases with the git binary, which is not installed")
	}
	remote := t.TempDir()
	copyTree(t, filepath.Join("testdata", "repo", "manifests"), filepath.Join(remote, "manifests"))
	commitAll(t, remote, "remote base")

	url := "file://" + filepath.ToSlash(remote) + "//manifests/shop?ref=master"
	dir := newRepo(t)
	writeFile(t, dir, "environments/remote/kustomization.yaml", "resources:\n  - "+url+"\n")

	opts := DefaultOptions()
	opts.AllowRemoteBases = true
	r := New(opts)
	for _, src := range sources {
		for i := range 2 {
			res, err := src.render(t, r, dir, "environments/remote")
			if err != nil {
				t.Fatalf("%s: %v", src.name, err)
			}
			if res.Cached {
				t.Errorf("%s render %d was cached; remote content is not tracked, so it must not be", src.name, i)
			}
			want := "file://" + filepath.ToSlash(remote) + "//manifests/shop/namespace.yaml?ref=master"
			if got := sourcesOf(res.Objects)["Namespace/shop"]; got != want {
				t.Errorf("%s: source = %q, want %q", src.name, got, want)
			}
		}
	}
	// Kustomize's clones are removed through the filesystem; none may be left behind.
	left, err := filepath.Glob(filepath.Join(os.TempDir(), "kustomize-*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range left {
		if fi, err := os.Stat(filepath.Join(l, ".git")); err == nil && fi.IsDir() {
			if b, err := os.ReadFile(filepath.Join(l, ".git", "FETCH_HEAD")); err == nil && strings.Contains(string(b), remote) {
				t.Errorf("clone %s left behind", l)
			}
		}
	}
}
