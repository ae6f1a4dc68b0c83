package render

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type listFunc func(t testing.TB, r *Renderer, dir string) ([]string, error)

var listSources = []struct {
	name string
	list listFunc
}{
	{"dir", func(t testing.TB, r *Renderer, dir string) ([]string, error) {
		return r.EnvironmentsDir(t.Context(), dir)
	}},
	{"commit", func(t testing.TB, r *Renderer, dir string) ([]string, error) {
		repo, h := commitAll(t, dir, "environments")
		return r.EnvironmentsCommit(t.Context(), bareCopy(t, repo), h)
	}},
}

func TestEnvironments(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t testing.TB, dir string)
		want  []string
		kind  error
	}{
		{
			name: "every directory with a kustomization",
			setup: func(t testing.TB, dir string) {
				writeFile(t, dir, "environments/dev/Kustomization", "resources:\n  - ../../manifests/shop\n")
				writeFile(t, dir, "environments/qa/kustomization.yml", "resources:\n  - ../../manifests/shop\n")
				writeFile(t, dir, "environments/notes/README.md", "not an environment\n")
				writeFile(t, dir, "environments/README.md", "environments\n")
				writeFile(t, dir, "environments/prod/eu/kustomization.yaml", "resources:\n  - ../../../manifests/shop\n")
			},
			want: []string{"environments/dev", "environments/prod", "environments/qa", "environments/staging"},
		},
		{
			name: "no environments directory",
			setup: func(t testing.TB, dir string) {
				if err := os.RemoveAll(filepath.Join(dir, "environments")); err != nil {
					t.Fatal(err)
				}
			},
			kind: ErrNotFound,
		},
		{
			name: "no environment has a kustomization",
			setup: func(t testing.TB, dir string) {
				for _, env := range []string{"prod", "staging"} {
					if err := os.RemoveAll(filepath.Join(dir, "environments", env, "kustomization.yaml")); err != nil {
						t.Fatal(err)
					}
				}
			},
			kind: ErrEmpty,
		},
		{
			name: "an environment symlinked out of the repository",
			setup: func(t testing.TB, dir string) {
				symlink(t, dir, "environments/evil", "/etc")
			},
			kind: ErrOutsideRepo,
		},
	}
	for _, tc := range tests {
		for _, src := range listSources {
			t.Run(tc.name+"/"+src.name, func(t *testing.T) {
				dir := newRepo(t)
				tc.setup(t, dir)
				got, err := src.list(t, New(DefaultOptions()), dir)
				if tc.kind != nil {
					var rerr *Error
					if !errors.Is(err, tc.kind) || !errors.As(err, &rerr) {
						t.Fatalf("err = %v, want a *render.Error of kind %v", err, tc.kind)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("environments (-want +got):\n%s", diff)
				}
			})
		}
	}
}
