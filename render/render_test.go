package render

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// golden renders objects as the text kept in testdata/golden: each object's source, then
// the object.
func golden(t *testing.T, objs []Object) []byte {
	t.Helper()
	var b bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			b.WriteString("---\n")
		}
		y, err := yaml.Marshal(o.Obj.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("# source: " + o.Source + "\n")
		b.Write(y)
	}
	return b.Bytes()
}

func TestRenderGolden(t *testing.T) {
	for _, env := range []string{"prod", "staging"} {
		for _, src := range sources {
			t.Run(env+"/"+src.name, func(t *testing.T) {
				dir := newRepo(t)
				res, err := src.render(t, New(DefaultOptions()), dir, "environments/"+env)
				if err != nil {
					t.Fatal(err)
				}
				got := golden(t, res.Objects)
				file := filepath.Join("testdata", "golden", env+".yaml")
				if *update && src.name == "dir" {
					if err := os.WriteFile(file, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("render of %s differs from %s (-want +got):\n%s", env, file, diff)
				}
				if res.Path != "environments/"+env || res.Cached || res.Key == "" {
					t.Errorf("result = {Path %q, Cached %t, Key %q}", res.Path, res.Cached, res.Key)
				}
			})
		}
	}
}

func TestRenderSources(t *testing.T) {
	want := map[string]string{
		"Namespace/shop":          "manifests/shop/namespace.yaml",
		"ServiceAccount/shop/api": "manifests/shop/serviceaccount.yaml",
		"Role.rbac.authorization.k8s.io/shop/api-config-reader":        "manifests/shop/role.yaml",
		"RoleBinding.rbac.authorization.k8s.io/shop/api-config-reader": "manifests/shop/rolebinding.yaml",
		"ConfigMap/shop/api-config":                                    "manifests/shop/configmap.yaml",
		"Deployment.apps/shop/api":                                     "manifests/shop/deployment-api.yaml",
		"Service/shop/api":                                             "manifests/shop/service-api.yaml",
		"Deployment.apps/shop/web":                                     "manifests/shop/deployment-web.yaml",
		"Service/shop/web":                                             "manifests/shop/service-web.yaml",
		"PodDisruptionBudget.policy/shop/api":                          "manifests/shop/pdb.yaml",
		"NetworkPolicy.networking.k8s.io/shop/api-from-web":            "manifests/shop/networkpolicy.yaml",
		// Generated: the kustomization declaring the generator.
		"ConfigMap/shop/shop-features-9dg276h6hh": "manifests/shop/kustomization.yaml",
		"ConfigMap/shop/web-settings-4d5c4hgc55":  "environments/prod/kustomization.yaml",
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			res, err := src.render(t, New(DefaultOptions()), newRepo(t), "environments/prod")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, sourcesOf(res.Objects)); diff != "" {
				t.Errorf("sources (-want +got):\n%s", diff)
			}
			for _, o := range res.Objects {
				for k := range o.Obj.GetAnnotations() {
					if k == originAnnotation || containsAll(k, internalAnnotationsPrefix) {
						t.Errorf("%s keeps bookkeeping annotation %s", o.Ref(), k)
					}
				}
			}
		})
	}
}

func TestRenderKeepsUserAnnotations(t *testing.T) {
	res, err := New(DefaultOptions()).RenderDir(t.Context(), newRepo(t), "environments/prod")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		if o.Ref().String() == "Deployment.apps/shop/api" {
			want := map[string]string{"shop.example.com/owner": "team-checkout"}
			if diff := cmp.Diff(want, o.Obj.GetAnnotations()); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
			return
		}
	}
	t.Fatal("Deployment.apps/shop/api not rendered")
}

// An environment that asks for origin annotations itself gets them, as from
// `kustomize build`; sources are still tracked.
func TestRenderUserOriginAnnotations(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			dir := newRepo(t)
			writeFile(t, dir, "environments/audit/kustomization.yaml",
				"resources:\n  - ../../manifests/shop/namespace.yaml\nbuildMetadata: [originAnnotations]\n")
			res, err := src.render(t, New(DefaultOptions()), dir, "environments/audit")
			if err != nil {
				t.Fatal(err)
			}
			o := res.Objects[0]
			want := "path: ../../manifests/shop/namespace.yaml\n"
			if got := o.Obj.GetAnnotations()[originAnnotation]; got != want {
				t.Errorf("origin annotation = %q, want %q", got, want)
			}
			if o.Source != "manifests/shop/namespace.yaml" {
				t.Errorf("source = %q", o.Source)
			}
		})
	}
}

// Symlinks inside the repository are followed, and sources name the real file.
func TestRenderSymlinkInsideRepo(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			dir := newRepo(t)
			symlink(t, dir, "environments/linked/base", "../../manifests/shop")
			writeFile(t, dir, "environments/linked/kustomization.yaml", "resources:\n  - base\n")
			res, err := src.render(t, New(DefaultOptions()), dir, "environments/linked")
			if err != nil {
				t.Fatal(err)
			}
			if got := sourcesOf(res.Objects)["Deployment.apps/shop/api"]; got != "manifests/shop/deployment-api.yaml" {
				t.Errorf("source = %q, want manifests/shop/deployment-api.yaml", got)
			}
		})
	}
}

// A commit renders from the object store alone: the working tree may be gone.
func TestRenderCommitWithoutWorktree(t *testing.T) {
	dir := newRepo(t)
	repo, h := commitAll(t, dir, "initial")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != ".git" {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := New(DefaultOptions()).RenderCommit(t.Context(), repo, h, "environments/prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != 13 {
		t.Errorf("rendered %d objects, want 13", len(res.Objects))
	}
}

func TestRenderCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := New(DefaultOptions()).RenderDir(ctx, newRepo(t), "environments/prod")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
