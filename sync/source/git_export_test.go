package source_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-agent/gitops-agent/sync/source"
)

func TestGitExport(t *testing.T) {
	r := newRemote(t, remoteOptions{})
	g := newGit(t, source.GitOptions{URL: r.URL})
	r.git(t, "update-index", "--add", "--chmod=+x", "README.md")
	r.git(t, "commit", "--quiet", "--message", "executable")
	r.push(t)
	ch, err := g.Fetch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "tree")
	if err := g.Export(t.Context(), ch.After.Head, dst); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(readTree(t, "testdata/site"), readTree(t, dst)); diff != "" {
		t.Errorf("exported tree (-want +got):\n%s", diff)
	}
	if fi, err := os.Stat(filepath.Join(dst, "README.md")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("README.md mode = %v, %v; want executable", fi.Mode(), err)
	}
	if err := g.Export(t.Context(), ch.After.Head, dst); err == nil || !strings.Contains(err.Error(), "destination is not empty") {
		t.Errorf("Export into a non-empty directory: error %v, want refusal", err)
	}
}

func TestGitExportRefusesEscapingSymlink(t *testing.T) {
	r := newRemote(t, remoteOptions{})
	if err := os.Symlink("../../../etc/passwd", filepath.Join(r.repo.Work, "apps", "passwd")); err != nil {
		t.Fatal(err)
	}
	r.commitAndPush(t, nil)
	g := newGit(t, source.GitOptions{URL: r.URL})
	ch, err := g.Fetch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	err = g.Export(t.Context(), ch.After.Head, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "apps/passwd: symbolic link") {
		t.Errorf("Export error = %v, want a refused symbolic link", err)
	}
}

// readTree maps each regular file under dir to its content.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
