package localcluster_test

import (
	"context"
	"testing"

	"github.com/gitops-agent/gitops-agent/localcluster"
)

// BenchmarkClusterStart measures what a test package pays for its cluster: the time from the
// first process to Ready nodes, and the memory of the whole control plane once idle.
func BenchmarkClusterStart(b *testing.B) {
	for b.Loop() {
		c, err := localcluster.Start(context.Background(), localcluster.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rss, err := c.RSS()
		if err != nil {
			b.Fatal(err)
		}
		var total uint64
		for _, v := range rss {
			total += v
		}
		b.ReportMetric(c.StartupDuration().Seconds(), "s/start")
		b.ReportMetric(float64(total)/(1<<20), "MiB-RSS")
		if err := c.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}
