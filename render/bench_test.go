package render

import "testing"

// The fixture environment: a base of 11 manifests and a generator, an overlay with two
// patch files, an inline JSON patch, image overrides and two generators (13 objects).
const benchEnv = "environments/prod"

var benchModes = []struct {
	name   string
	opts   Options
	cached bool
}{
	{"uncached", Options{CacheEntries: -1}, false},
	{"cached", DefaultOptions(), true},
}

func BenchmarkRenderDir(b *testing.B) {
	dir := newRepo(b)
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) {
			r := New(m.opts)
			if _, err := r.RenderDir(b.Context(), dir, benchEnv); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := r.RenderDir(b.Context(), dir, benchEnv)
				if err != nil {
					b.Fatal(err)
				}
				if res.Cached != m.cached {
					b.Fatalf("Cached = %t", res.Cached)
				}
			}
		})
	}
}

func BenchmarkRenderCommit(b *testing.B) {
	repo, h := commitAll(b, newRepo(b), "bench")
	bare := bareCopy(b, repo)
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) {
			r := New(m.opts)
			if _, err := r.RenderCommit(b.Context(), bare, h, benchEnv); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := r.RenderCommit(b.Context(), bare, h, benchEnv)
				if err != nil {
					b.Fatal(err)
				}
				if res.Cached != m.cached {
					b.Fatalf("Cached = %t", res.Cached)
				}
			}
		})
	}
}
