package render

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type badCase struct {
	name string
	// fixture is a tree under testdata/cases copied over testdata/repo ("" for none).
	fixture string
	// setup adds what a fixture file cannot hold: symlinks, binary and huge files.
	setup func(t testing.TB, dir string)
	env   string // default environments/case
	opts  *Options
	kind  error
	path  string
	line  int
	// says are parts of the message a person needs: the offending path, the field.
	says []string
	// hides are parts the message must not show: secret values.
	hides []string
}

var badCases = []badCase{
	{
		name: "malformed YAML", fixture: "malformed-yaml",
		kind: ErrMalformedYAML, path: "environments/case/deployment.yaml", line: 7,
		says: []string{"malformed YAML", "mapping values are not allowed"},
	},
	{
		name: "duplicate mapping key", fixture: "duplicate-key",
		kind: ErrDuplicateKey, path: "environments/case/deployment.yaml", line: 7,
		says: []string{`mapping key "replicas" already defined at line 6`},
	},
	{
		name: "missing file", fixture: "missing-file",
		kind: ErrNotFound, path: "environments/case/kustomization.yaml", line: 3,
		says: []string{`resource "missing.yaml"`, "environments/case/missing.yaml does not exist"},
	},
	{
		name: "path escaping the repository", fixture: "path-escape",
		kind: ErrOutsideRepo, path: "environments/case/kustomization.yaml", line: 3,
		says: []string{`resource "../../../../../../../../../../../../etc/passwd"`, "outside the repository"},
	},
	{
		name: "absolute path", fixture: "absolute-path",
		kind: ErrOutsideRepo, path: "environments/case/kustomization.yaml", line: 2,
		says: []string{`resource "/etc/passwd" is an absolute path`},
	},
	{
		name: "base directory above the repository", fixture: "path-escape-dir",
		kind: ErrOutsideRepo, path: "environments/case/kustomization.yaml", line: 2,
		says: []string{`resource "../../.."`, "outside the repository"},
	},
	{
		name: "absolute symlink out of the repository", fixture: "symlink-escape",
		setup: func(t testing.TB, dir string) { symlink(t, dir, "environments/case/passwd.yaml", "/etc/passwd") },
		kind:  ErrOutsideRepo, path: "environments/case/kustomization.yaml", line: 3,
		// go-git commits the target as "/../../../etc/passwd"; the message quotes it as stored.
		says: []string{`resource "passwd.yaml"`, `environments/case/passwd.yaml is a symlink to "/`, "etc/passwd"},
	},
	{
		name: "relative symlink out of the repository", fixture: "symlink-escape-relative",
		setup: func(t testing.TB, dir string) { symlink(t, dir, "environments/case/outside", "../../../elsewhere") },
		kind:  ErrOutsideRepo, path: "environments/case/kustomization.yaml", line: 2,
		says: []string{`resource "outside/app.yaml"`, `environments/case/outside is a symlink to "../../../elsewhere"`},
	},
	{
		name: "symlink loop", fixture: "symlink-loop",
		setup: func(t testing.TB, dir string) {
			symlink(t, dir, "environments/case/a.yaml", "b.yaml")
			symlink(t, dir, "environments/case/b.yaml", "a.yaml")
		},
		kind: ErrCycle, path: "environments/case/kustomization.yaml", line: 2,
		says: []string{`resource "a.yaml"`, "too many levels of symlinks"},
	},
	{
		name: "remote base URL", fixture: "remote-base",
		kind: ErrRemote, path: "environments/case/kustomization.yaml", line: 3,
		says: []string{`resource "https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.0.0" is remote`, "Options.AllowRemoteBases"},
	},
	{
		name: "remote base shorthand", fixture: "remote-github",
		kind: ErrRemote, path: "environments/case/kustomization.yaml", line: 2,
		says: []string{`resource "github.com/acme/deployments/base?ref=v1.2.0" is remote`},
	},
	{
		name: "remote patch file", fixture: "remote-patch",
		kind: ErrRemote, path: "environments/case/kustomization.yaml", line: 4,
		says: []string{`patch "https://example.com/patches/replicas.yaml" is remote`},
	},
	{
		name: "remote base in a base", fixture: "remote-in-base",
		kind: ErrRemote, path: "manifests/remote/kustomization.yaml", line: 2,
		says: []string{`resource "git@github.com:acme/deployments.git//base?ref=main" is remote`},
	},
	{
		name: "cyclic bases", fixture: "cycle",
		kind: ErrCycle, path: "manifests/cycle-b/kustomization.yaml", line: 3,
		says: []string{`resource "../cycle-a"`, "manifests/cycle-a is already being built"},
	},
	{
		name: "binary file", fixture: "binary",
		setup: func(t testing.TB, dir string) {
			writeFile(t, dir, "environments/case/logo.yaml", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
		},
		kind: ErrNotText, path: "environments/case/logo.yaml",
		says: []string{"not UTF-8 text"},
	},
	{
		name: "non-UTF-8 file", fixture: "not-utf8",
		setup: func(t testing.TB, dir string) {
			writeFile(t, dir, "environments/case/configmap.yaml",
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\ndata:\n  k: v\n")
		},
		kind: ErrNotText, path: "environments/case/configmap.yaml",
		says: []string{"not UTF-8 text"},
	},
	{
		name: "file above the size limit", fixture: "large-file",
		setup: func(t testing.TB, dir string) { hugeFile(t, dir, "environments/case/huge.yaml", 50<<20) },
		kind:  ErrTooLarge, path: "environments/case/huge.yaml",
		says: []string{"52428800 bytes", "8388608-byte limit"},
	},
	{
		name: "empty environment", fixture: "empty-env",
		kind: ErrEmpty, path: "environments/case/kustomization.yaml",
		says: []string{"renders no objects", "delete everything"},
	},
	{
		name: "environment without kustomization", fixture: "no-kustomization",
		kind: ErrNoKustomization, path: "environments/case",
		says: []string{"no kustomization.yaml"},
	},
	{
		name: "environment that does not exist", env: "environments/nowhere",
		kind: ErrNotFound, path: "environments/nowhere",
		says: []string{"does not exist"},
	},
	{
		name: "environment path leaving the repository", env: "../elsewhere",
		kind: ErrOutsideRepo, path: "../elsewhere",
	},
	{
		name: "base without kustomization", fixture: "base-without-kustomization",
		kind: ErrNoKustomization, path: "environments/case/kustomization.yaml", line: 2,
		says: []string{`resource "../../manifests/nokust"`, "manifests/nokust has no kustomization.yaml"},
	},
	{
		name: "unknown kustomization field", fixture: "unknown-field",
		kind: ErrInvalid, path: "environments/case/kustomization.yaml", line: 3,
		says: []string{`unknown field "resourcez"`},
	},
	{
		name: "two kustomization files", fixture: "two-kustomizations",
		kind: ErrInvalid, path: "environments/case",
		says: []string{"kustomization.yaml, Kustomization"},
	},
	{
		name: "object without kind", fixture: "no-kind",
		kind: ErrKustomize, path: "environments/case/nokind.yaml",
		says: []string{"missing kind"},
	},
	{
		name: "patch matching nothing", fixture: "patch-no-target",
		kind: ErrKustomize, path: "environments/case",
		says: []string{`no resource matches strategic merge patch "Deployment.v1.apps/nope`},
	},
	{
		name: "secret literal without key", fixture: "bad-literal",
		kind: ErrInvalid, path: "environments/case/kustomization.yaml", line: 7,
		says: []string{`secretGenerator "db": a literal is not key=value`}, hides: []string{"hunter2"},
	},
	{
		name: "secret env file that is not UTF-8", fixture: "bad-env-file",
		setup: func(t testing.TB, dir string) {
			writeFile(t, dir, "environments/case/db.env", "USER=app\nPASSWORD=hunter2\xff\n")
		},
		kind: ErrInvalid, path: "environments/case/db.env",
		says: []string{"NAME=value"}, hides: []string{"hunter2"},
	},
	{
		name: "helm chart", fixture: "helm",
		kind: ErrHelm, path: "environments/case/kustomization.yaml", line: 3,
		says: []string{"helmCharts", "Options.AllowHelm"},
	},
}

// hugeFile writes a file of size bytes of YAML comment, sparse where the filesystem
// allows, so that only the renderer's refusal is measured.
func hugeFile(t testing.TB, dir, rel string, size int64) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("# "); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

func TestRenderBadInput(t *testing.T) {
	for _, tc := range badCases {
		for _, src := range sources {
			t.Run(tc.name+"/"+src.name, func(t *testing.T) {
				var dir string
				if tc.fixture != "" {
					dir = newRepo(t, tc.fixture)
				} else {
					dir = newRepo(t)
				}
				if tc.setup != nil {
					tc.setup(t, dir)
				}
				env := tc.env
				if env == "" {
					env = "environments/case"
				}
				opts := DefaultOptions()
				if tc.opts != nil {
					opts = *tc.opts
				}
				res, err := src.render(t, New(opts), dir, env)
				if err == nil {
					t.Fatalf("rendered %d objects, want an error", len(res.Objects))
				}
				if !errors.Is(err, tc.kind) {
					t.Errorf("error %q is not %v", err, tc.kind)
				}
				var rerr *Error
				if !errors.As(err, &rerr) {
					t.Fatalf("error %q (%T) is not a *render.Error", err, err)
				}
				type loc struct {
					Path string
					Line int
				}
				if diff := cmp.Diff(loc{tc.path, tc.line}, loc{rerr.Path, rerr.Line}); diff != "" {
					t.Errorf("error %q location (-want +got):\n%s", err, diff)
				}
				for _, s := range tc.says {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				for _, s := range tc.hides {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q shows %q", err, s)
					}
				}
				if strings.Contains(err.Error(), dir) {
					t.Errorf("error %q names the checkout directory; want repository paths", err)
				}
			})
		}
	}
}

// A file above the limit is refused from its size alone: reading 50 MiB to find it too
// large would be the very harm the limit prevents.
func TestRenderLargeFileIsNotRead(t *testing.T) {
	dir := newRepo(t, "large-file")
	hugeFile(t, dir, "environments/case/huge.yaml", 50<<20)
	r := New(DefaultOptions())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := r.RenderDir(t.Context(), dir, "environments/case")
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("render allocated %d bytes; the 50 MiB file was read", alloc)
	}
}

// Generator inputs are data: binary and non-YAML files are fine there.
func TestRenderGeneratorBinaryData(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			dir := newRepo(t, "generator-binary")
			writeFile(t, dir, "environments/case/logo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
			writeFile(t, dir, "environments/case/legacy.txt", "key: a\nkey: b\n")
			res, err := src.render(t, New(DefaultOptions()), dir, "environments/case")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Objects) != 2 {
				t.Fatalf("rendered %d objects, want 2", len(res.Objects))
			}
			cm := res.Objects[1].Obj
			if _, ok := cm.Object["binaryData"].(map[string]any)["logo.png"]; !ok {
				t.Errorf("logo.png not in binaryData of %s", RefOf(cm))
			}
			if res.Objects[1].Source != "environments/case/kustomization.yaml" {
				t.Errorf("source = %q", res.Objects[1].Source)
			}
		})
	}
}

// A failed render leaves nothing in the cache, and a later fix is rendered.
func TestRenderErrorThenFix(t *testing.T) {
	dir := newRepo(t, "missing-file")
	r := New(DefaultOptions())
	if _, err := r.RenderDir(t.Context(), dir, "environments/case"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	writeFile(t, dir, "environments/case/missing.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: found\n")
	res, err := r.RenderDir(t.Context(), dir, "environments/case")
	if err != nil {
		t.Fatal(err)
	}
	if res.Cached || len(res.Objects) != 2 {
		t.Errorf("got Cached %t, %d objects; want a fresh render of 2", res.Cached, len(res.Objects))
	}
}
