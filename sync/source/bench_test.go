package source_test

import (
	"testing"

	"github.com/gitops-agent/gitops-agent/sync/source"
)

// BenchmarkFetchUnchanged measures the steady state of polling: a Fetch of
// a repository that did not change (one ref listing over smart HTTP).
func BenchmarkFetchUnchanged(b *testing.B) {
	r := newRemote(b, remoteOptions{})
	// Tags make the comparison realistic for a promotion repository.
	for i := range 50 {
		r.git(b, "tag", "env/release-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	r.push(b)
	g := newGit(b, source.GitOptions{URL: r.URL})
	if _, err := g.Fetch(b.Context()); err != nil {
		b.Fatal(err)
	}
	before := r.requests.Load()
	n := 0
	for b.Loop() {
		ch, err := g.Fetch(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if !ch.Empty() {
			b.Fatalf("change %+v, want none", ch)
		}
		n++
	}
	b.ReportMetric(float64(r.requests.Load()-before)/float64(n), "requests/op")
}
