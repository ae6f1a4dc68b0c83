package render

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// fsOver returns a repoFS over the repository dir, read from disk or from a commit of it.
func fsOver(t *testing.T, dir, source string) *repoFS {
	t.Helper()
	opts := DefaultOptions().withDefaults()
	if source == "dir" {
		tr, err := openDirTree(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.close() })
		return newRepoFS(t.Context(), tr, tr.abs, "", opts)
	}
	repo, h := commitAll(t, dir, "filesys")
	tr, err := openCommitTree(&sync.Mutex{}, repo, h)
	if err != nil {
		t.Fatal(err)
	}
	return newRepoFS(t.Context(), tr, commitRoot, "", opts)
}

func TestRepoFS(t *testing.T) {
	for _, source := range []string{"dir", "commit"} {
		t.Run(source, func(t *testing.T) {
			dir := newRepo(t)
			writeFile(t, dir, "manifests/shop/.hidden.yaml", "a: 1\n")
			symlink(t, dir, "environments/linked", "prod")
			f := fsOver(t, dir, source)
			abs := f.abs
			rel := func(paths []string) []string {
				out := make([]string, len(paths))
				for i, p := range paths {
					out[i], _ = f.relOf(p)
				}
				return out
			}

			names, err := f.ReadDir(abs("environments"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"linked", "prod", "staging"}, names); diff != "" {
				t.Errorf("ReadDir (-want +got):\n%s", diff)
			}

			matches, err := f.Glob(abs("manifests/shop/*ment-*.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"manifests/shop/deployment-api.yaml", "manifests/shop/deployment-web.yaml"}
			if diff := cmp.Diff(want, rel(matches)); diff != "" {
				t.Errorf("Glob (-want +got):\n%s", diff)
			}
			hidden, err := f.Glob(abs("manifests/*/*.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hidden {
				if strings.Contains(h, ".hidden") {
					t.Errorf("Glob returned hidden file %s", h)
				}
			}

			var walked []string
			err = f.Walk(abs("environments"), func(p string, info fs.FileInfo, err error) error {
				if err != nil {
					return err
				}
				r, _ := f.relOf(p)
				if info.IsDir() {
					r += "/"
				}
				walked = append(walked, r)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want = []string{
				"environments/", "environments/linked",
				"environments/prod/", "environments/prod/kustomization.yaml", "environments/prod/patch-config.yaml",
				"environments/prod/patch-replicas.yaml", "environments/prod/settings.properties",
				"environments/staging/", "environments/staging/kustomization.yaml",
			}
			if diff := cmp.Diff(want, walked); diff != "" {
				t.Errorf("Walk (-want +got):\n%s", diff)
			}

			file, err := f.Open(abs("environments/prod/settings.properties"))
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(file)
			if err != nil {
				t.Fatal(err)
			}
			if fi, _ := file.Stat(); fi.Size() != int64(len(data)) || !strings.HasPrefix(string(data), "theme=dark") {
				t.Errorf("Open: read %q, size %d", data, fi.Size())
			}
			if _, err := file.Write([]byte("x")); !errors.Is(err, errReadOnly) {
				t.Errorf("Write: err = %v, want read-only", err)
			}

			d, name, err := f.CleanedAbs(abs("environments/linked/kustomization.yaml"))
			if err != nil || d != filesys.ConfirmedDir(abs("environments/prod")) || name != "kustomization.yaml" {
				t.Errorf("CleanedAbs(file through symlink) = %q, %q, %v", d, name, err)
			}
			d, name, err = f.CleanedAbs(abs("environments/linked"))
			if err != nil || d != filesys.ConfirmedDir(abs("environments/prod")) || name != "" {
				t.Errorf("CleanedAbs(symlinked dir) = %q, %q, %v", d, name, err)
			}

			probes := []struct {
				path        string
				isDir, isIn bool
			}{
				{abs("manifests"), true, true},
				{abs("environments/linked"), true, true},
				{abs("README.md"), false, true},
				{abs("nothing"), false, false},
				{filepath.Dir(f.root) + "/elsewhere", false, false},
				{"/etc/passwd", false, false},
			}
			for _, p := range probes {
				if got := f.IsDir(p.path); got != p.isDir {
					t.Errorf("IsDir(%s) = %t", p.path, got)
				}
				if got := f.Exists(p.path); got != p.isIn {
					t.Errorf("Exists(%s) = %t", p.path, got)
				}
			}
			if f.refusal != nil {
				t.Errorf("existence probes recorded a refusal: %v", f.refusal)
			}

			writes := map[string]error{}
			_, writes["Create"] = f.Create(abs("new.yaml"))
			writes["WriteFile"] = f.WriteFile(abs("README.md"), []byte("x"))
			writes["Mkdir"] = f.Mkdir(abs("newdir"))
			writes["MkdirAll"] = f.MkdirAll(abs("a/b"))
			writes["RemoveAll"] = f.RemoveAll(abs("manifests"))
			for op, err := range writes {
				if !errors.Is(err, errReadOnly) {
					t.Errorf("%s: err = %v, want read-only", op, err)
				}
			}
		})
	}
}
