package policy

import (
	"context"
	"testing"
)

// BenchmarkRegoEvaluate measures the built-in policies over a 10,000-object environment and
// reports objects per second; schema and policies together must manage 20,000 objects/s on
// two cores.
func BenchmarkRegoEvaluate(b *testing.B) {
	ctx := context.Background()
	set, err := LoadRegoDir(ctx, "../policies", DefaultRegoOptions())
	if err != nil {
		b.Fatal(err)
	}
	corpus := mixedCorpus(10_000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := set.Evaluate(ctx, "prod", corpus); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(corpus))*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}
