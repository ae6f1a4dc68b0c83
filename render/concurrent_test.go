package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// Two commits of the same environment render side by side, from one bare repository,
// each giving what it gives alone. Run with -race.
func TestRenderCommitsConcurrently(t *testing.T) {
	dir := newRepo(t)
	_, before := commitAll(t, dir, "before")
	writeFile(t, dir, "environments/prod/patch-replicas.yaml",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  replicas: 7\n")
	repo, after := commitAll(t, dir, "after")
	bare := bareCopy(t, repo)

	for _, opts := range []Options{{CacheEntries: -1}, DefaultOptions()} {
		t.Run(fmt.Sprintf("cache=%d", opts.CacheEntries), func(t *testing.T) {
			r := New(opts)
			want := map[plumbing.Hash][]byte{}
			for _, c := range []plumbing.Hash{before, after} {
				res, err := r.RenderCommit(t.Context(), bare, c, "environments/prod")
				if err != nil {
					t.Fatal(err)
				}
				want[c] = golden(t, res.Objects)
			}
			if bytes.Equal(want[before], want[after]) {
				t.Fatal("the two commits render alike; the test proves nothing")
			}

			const workers = 8
			var wg sync.WaitGroup
			got := make([][]byte, workers)
			errs := make([]error, workers)
			for i := range workers {
				wg.Go(func() {
					c := before
					if i%2 == 1 {
						c = after
					}
					res, err := r.RenderCommit(t.Context(), bare, c, "environments/prod")
					if err != nil {
						errs[i] = err
						return
					}
					got[i] = golden(t, res.Objects)
				})
			}
			wg.Wait()
			for i := range workers {
				c := before
				if i%2 == 1 {
					c = after
				}
				if errs[i] != nil {
					t.Errorf("worker %d: %v", i, errs[i])
				} else if !bytes.Equal(got[i], want[c]) {
					t.Errorf("worker %d rendered commit %s differently from a render alone", i, c)
				}
			}
		})
	}
}

// A kustomization with a custom OpenAPI schema changes kustomize's process-wide schema;
// the renderer runs it alone and restores the default, so that other renders (which
// merge container lists by name with the built-in schema) are unaffected.
func TestRenderCustomOpenAPISchema(t *testing.T) {
	dir := newRepo(t, "openapi")
	r := New(Options{CacheEntries: -1})
	var wg sync.WaitGroup
	var custom *Result
	var customErr error
	prod := make([]*Result, 4)
	prodErr := make([]error, 4)
	for i := range prod {
		wg.Go(func() { prod[i], prodErr[i] = r.RenderDir(t.Context(), dir, "environments/prod") })
	}
	wg.Go(func() { custom, customErr = r.RenderDir(t.Context(), dir, "environments/case") })
	wg.Wait()

	if customErr != nil {
		t.Fatal(customErr)
	}
	parts, _, _ := unstructuredSlice(custom.Objects[0].Obj.Object, "spec", "parts")
	if len(parts) != 2 {
		t.Errorf("widget parts = %v; want axle kept and wheel patched (merge by name, from the custom schema)", parts)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "golden", "prod.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range prod {
		if prodErr[i] != nil {
			t.Fatal(prodErr[i])
		}
		if got := golden(t, prod[i].Objects); !bytes.Equal(got, want) {
			t.Errorf("prod render %d differs from testdata/golden/prod.yaml next to a custom-schema render", i)
		}
	}
	res, err := r.RenderDir(t.Context(), dir, "environments/prod")
	if err != nil {
		t.Fatal(err)
	}
	if got := golden(t, res.Objects); !bytes.Equal(got, want) {
		t.Error("prod render after a custom-schema render differs from testdata/golden/prod.yaml")
	}
}

func unstructuredSlice(obj map[string]any, fields ...string) ([]any, bool, error) {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		cur = m[f]
	}
	s, ok := cur.([]any)
	return s, ok, nil
}
