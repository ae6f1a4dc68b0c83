package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type step struct {
	name   string
	change func(t testing.TB, dir string)
	cached bool
	// sameKey: the key equals the first render's.
	sameKey bool
}

var cacheSteps = []step{
	{name: "first render", cached: false, sameKey: true},
	{name: "unchanged", cached: true, sameKey: true},
	{
		name: "files the overlay does not read",
		change: func(t testing.TB, dir string) {
			writeFile(t, dir, "README.md", "changed\n")
			writeFile(t, dir, "manifests/unused/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n")
			writeFile(t, dir, "environments/staging/kustomization.yaml", "resources:\n  - ../../manifests/unused\n")
			writeFile(t, dir, "manifests/shop/new-but-unlisted.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n")
		},
		cached: true, sameKey: true,
	},
	{
		name: "a file the overlay reads, rewritten with the same content",
		change: func(t testing.TB, dir string) {
			copyTree(t, "testdata/repo/manifests/shop", dir+"/manifests/shop")
		},
		cached: true, sameKey: true,
	},
	{
		name: "a base manifest the overlay reads",
		change: func(t testing.TB, dir string) {
			writeFile(t, dir, "manifests/shop/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    tier: gold\n")
		},
		cached: false, sameKey: false,
	},
	{
		name: "a generator input the overlay reads",
		change: func(t testing.TB, dir string) {
			writeFile(t, dir, "environments/prod/settings.properties", "theme=light\n")
		},
		cached: false, sameKey: false,
	},
}

func TestCacheDir(t *testing.T) {
	dir := newRepo(t)
	r := New(DefaultOptions())
	var firstKey string
	for _, s := range cacheSteps {
		t.Run(s.name, func(t *testing.T) {
			if s.change != nil {
				s.change(t, dir)
			}
			res, err := r.RenderDir(t.Context(), dir, "environments/prod")
			if err != nil {
				t.Fatal(err)
			}
			if firstKey == "" {
				firstKey = res.Key
			}
			checkStep(t, s, res, firstKey)
		})
	}
}

func TestCacheCommit(t *testing.T) {
	dir := newRepo(t)
	r := New(DefaultOptions())
	var firstKey string
	for _, s := range cacheSteps {
		t.Run(s.name, func(t *testing.T) {
			if s.change != nil {
				s.change(t, dir)
			}
			repo, h := commitAll(t, dir, s.name)
			res, err := r.RenderCommit(t.Context(), repo, h, "environments/prod")
			if err != nil {
				t.Fatal(err)
			}
			if firstKey == "" {
				firstKey = res.Key
			}
			checkStep(t, s, res, firstKey)
		})
	}
}

func checkStep(t *testing.T, s step, res *Result, firstKey string) {
	t.Helper()
	if res.Cached != s.cached {
		t.Errorf("Cached = %t, want %t", res.Cached, s.cached)
	}
	if (res.Key == firstKey) != s.sameKey {
		t.Errorf("key %s, first key %s: want same = %t", res.Key, firstKey, s.sameKey)
	}
	if len(res.Objects) != 13 {
		t.Errorf("%d objects, want 13", len(res.Objects))
	}
}

// Keys name content, not where it came from: a checkout and its commit render alike.
func TestCacheKeySameForDirAndCommit(t *testing.T) {
	dir := newRepo(t)
	r := New(DefaultOptions())
	fromDir, err := r.RenderDir(t.Context(), dir, "environments/prod")
	if err != nil {
		t.Fatal(err)
	}
	repo, h := commitAll(t, dir, "same content")
	fromCommit, err := r.RenderCommit(t.Context(), repo, h, "environments/prod")
	if err != nil {
		t.Fatal(err)
	}
	if fromCommit.Key != fromDir.Key || !fromCommit.Cached {
		t.Errorf("commit render: key %s cached %t; dir render key %s", fromCommit.Key, fromCommit.Cached, fromDir.Key)
	}
	if diff := cmp.Diff(fromDir.Files, fromCommit.Files); diff != "" {
		t.Errorf("files (-dir +commit):\n%s", diff)
	}
}

// A file appearing where the render looked and found nothing invalidates it: here a
// second kustomization file, which must fail the render rather than be masked by the cache.
func TestCacheSeesNewFiles(t *testing.T) {
	dir := newRepo(t)
	r := New(DefaultOptions())
	if _, err := r.RenderDir(t.Context(), dir, "environments/prod"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "environments/prod/kustomization.yml", "resources: []\n")
	if res, err := r.RenderDir(t.Context(), dir, "environments/prod"); err == nil {
		t.Fatalf("rendered (cached %t) despite two kustomization files", res.Cached)
	}
}

// Callers own what they get: changing a result does not change the cache.
func TestCacheResultsAreCopies(t *testing.T) {
	dir := newRepo(t)
	r := New(DefaultOptions())
	first, err := r.RenderDir(t.Context(), dir, "environments/prod")
	if err != nil {
		t.Fatal(err)
	}
	want := first.Objects[0].Obj.DeepCopy()
	first.Objects[0].Obj.SetLabels(map[string]string{"mutated": "yes"})
	first.Files[0] = "mutated"
	second, err := r.RenderDir(t.Context(), dir, "environments/prod")
	if err != nil {
		t.Fatal(err)
	}
	if !second.Cached {
		t.Fatal("second render not cached")
	}
	if diff := cmp.Diff(want.Object, second.Objects[0].Obj.Object); diff != "" {
		t.Errorf("cached object changed by a caller (-want +got):\n%s", diff)
	}
	if second.Files[0] == "mutated" {
		t.Error("cached file list changed by a caller")
	}
}

func TestCacheBounded(t *testing.T) {
	dir := newRepo(t)
	writeFile(t, dir, "environments/qa/kustomization.yaml", "resources:\n  - ../../manifests/shop\n")
	r := New(Options{CacheEntries: 2})
	for _, env := range []string{"environments/prod", "environments/staging", "environments/qa"} {
		if _, err := r.RenderDir(t.Context(), dir, env); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.cache.len(); n != 2 {
		t.Errorf("cache holds %d renders, want 2", n)
	}
	res, err := r.RenderDir(t.Context(), dir, "environments/prod")
	if err != nil {
		t.Fatal(err)
	}
	if res.Cached {
		t.Error("least recently used render was not evicted")
	}
}

func TestCacheDisabled(t *testing.T) {
	dir := newRepo(t)
	r := New(Options{CacheEntries: -1})
	for range 2 {
		res, err := r.RenderDir(t.Context(), dir, "environments/prod")
		if err != nil {
			t.Fatal(err)
		}
		if res.Cached {
			t.Fatal("render cached with the cache disabled")
		}
	}
}

// The files a render reports are exactly those it read.
func TestResultFiles(t *testing.T) {
	res, err := New(DefaultOptions()).RenderDir(t.Context(), newRepo(t), "environments/staging")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"environments/staging/kustomization.yaml",
		"manifests/shop/configmap.yaml",
		"manifests/shop/deployment-api.yaml",
		"manifests/shop/deployment-web.yaml",
		"manifests/shop/kustomization.yaml",
		"manifests/shop/namespace.yaml",
		"manifests/shop/networkpolicy.yaml",
		"manifests/shop/pdb.yaml",
		"manifests/shop/role.yaml",
		"manifests/shop/rolebinding.yaml",
		"manifests/shop/service-api.yaml",
		"manifests/shop/service-web.yaml",
		"manifests/shop/serviceaccount.yaml",
	}
	if diff := cmp.Diff(want, res.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}
