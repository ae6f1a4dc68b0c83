package drift

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/localcluster/clustertest"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// benchEdits is the number of out-of-band edits the latency benchmarks make.
const benchEdits = 100

var benchWatched = flag.Int("bench-watched", 10000, "objects BenchmarkWatchedObjects watches (the target is 10,000)")

// BenchmarkDetectionLatency edits 100 ConfigMaps out of band, one after the other, and
// measures from the patch's return to the report showing the edit (OnChange). The watch event
// often arrives before the patch's response, so it also reports the time from the patch's
// start (the "sent-" figures), which includes the API server's write.
func BenchmarkDetectionLatency(b *testing.B) {
	r := newRig(b, Options{})
	objs := make([]*unstructured.Unstructured, benchEdits)
	for i := range objs {
		objs[i] = r.configMap(fmt.Sprintf("cm-%03d", i), map[string]any{"value": "desired"})
	}
	r.apply(EnvSpec{}, "c1", objs...)
	r.waitFor("watching", time.Minute, func(Report) bool {
		return r.metric(`gitops_agent_drift_watched_objects{env="`+r.env+`"}`) == benchEdits
	})

	var latencies, fromSent []time.Duration
	for n := range b.N {
		for i := range benchEdits {
			name := fmt.Sprintf("cm-%03d", i)
			value := fmt.Sprintf("edit-%d", n)
			sent := time.Now()
			r.patch(configMaps, name, "bench-editor", map[string]any{"data": map[string]any{"value": value}})
			patched := time.Now()
			r.awaitChange(func(rep Report) bool {
				o, ok := object(rep, "ConfigMap", name)
				return ok && len(o.Fields) == 1 && o.Fields[0].Live == value
			})
			latencies = append(latencies, time.Since(patched))
			fromSent = append(fromSent, time.Since(sent))
		}
	}
	reportPercentiles(b, "", latencies)
	reportPercentiles(b, "sent-", fromSent)
}

// BenchmarkHealLatency edits 100 ConfigMaps of a self-healing environment out of band and
// measures from the patch's return to the report showing the object healed.
func BenchmarkHealLatency(b *testing.B) {
	// Every edit is of another object, or, with b.N > 1, of one healed a hundred edits ago:
	// neither backoff nor flapping may hold a heal back.
	r := newRig(b, Options{HealBackoff: time.Millisecond, FlapThreshold: 1 << 20})
	objs := make([]*unstructured.Unstructured, benchEdits)
	for i := range objs {
		objs[i] = r.configMap(fmt.Sprintf("cm-%03d", i), map[string]any{"value": "desired"})
	}
	r.apply(EnvSpec{SelfHeal: true}, "c1", objs...)
	r.waitFor("watching", time.Minute, func(Report) bool {
		return r.metric(`gitops_agent_drift_watched_objects{env="`+r.env+`"}`) == benchEdits
	})
	heals := r.detector.metrics.heals.WithLabelValues(r.env, healResultHealed)

	var latencies []time.Duration
	for n := range b.N {
		for i := range benchEdits {
			name := fmt.Sprintf("cm-%03d", i)
			want := testutil.ToFloat64(heals) + 1
			r.patch(configMaps, name, "bench-editor", map[string]any{"data": map[string]any{"value": fmt.Sprintf("edit-%d", n)}})
			patched := time.Now()
			r.awaitChange(func(rep Report) bool {
				_, drifted := object(rep, "ConfigMap", name)
				return !drifted && testutil.ToFloat64(heals) >= want
			})
			latencies = append(latencies, time.Since(patched))
		}
	}
	reportPercentiles(b, "", latencies)
}

// BenchmarkWatchedObjects watches -bench-watched objects (four ConfigMaps to one Deployment,
// across 10 namespaces) and reports the memory the detector holds for them: the Go heap
// after a GC and the process's resident set, both for the whole test process (which also
// holds the apply manager and the objects it applied) and as the growth the detector
// caused ("detector-").
func BenchmarkWatchedObjects(b *testing.B) {
	r := newRig(b, Options{})
	namespaces := []string{r.ns}
	for len(namespaces) < 10 {
		namespaces = append(namespaces, clustertest.Namespace(b, r.cs))
	}
	total := *benchWatched
	objs := make([]*unstructured.Unstructured, 0, total)
	for i := range total {
		ns := namespaces[i%len(namespaces)]
		var o *unstructured.Unstructured
		if i%5 == 4 {
			o = r.deployment(fmt.Sprintf("app-%05d", i), 0)
		} else {
			o = r.configMap(fmt.Sprintf("cm-%05d", i), map[string]any{
				"app.properties": strings.Repeat(fmt.Sprintf("key%d=value%d\n", i, i), 8),
				"mode":           "production",
			})
		}
		o.SetNamespace(ns)
		objs = append(objs, o)
	}
	start := time.Now()
	cs, err := r.manager.Apply(context.Background(), objs, apply.DefaultApplyOptions(r.env))
	if err != nil {
		b.Fatalf("apply %d objects: %v", total, err)
	}
	b.Logf("applied %d objects in %s (%s)", total, time.Since(start).Round(time.Second), cs.Summary())

	for b.Loop() {
		heapBefore, rssBefore := memoryInUse(b)
		start = time.Now()
		if err := r.detector.SetDesired(r.env, EnvSpec{}, "c1", objs); err != nil {
			b.Fatal(err)
		}
		r.waitFor("watching", 5*time.Minute, func(Report) bool {
			return r.metric(`gitops_agent_drift_watched_objects{env="`+r.env+`"}`) == float64(total)
		})
		synced := time.Since(start)
		r.waitFor("compared", time.Minute, func(Report) bool { return r.detector.queue.Len() == 0 })
		heapAfter, rss := memoryInUse(b)
		if rep := r.detector.Report(r.env); len(rep.Objects) > 0 {
			b.Errorf("%d objects in drift right after the apply, first %+v", len(rep.Objects), rep.Objects[0])
		}
		b.ReportMetric(float64(total), "objects")
		b.ReportMetric(synced.Seconds(), "sync-s")
		b.ReportMetric(float64(heapAfter)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(int64(heapAfter)-int64(heapBefore))/(1<<20), "detector-heap-MiB")
		b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
		b.ReportMetric(float64(int64(rss)-int64(rssBefore))/(1<<20), "detector-rss-MiB")
		b.ReportMetric(float64(int64(heapAfter)-int64(heapBefore))/float64(total), "B/object")
		r.detector.Forget(r.env)
	}
}

// awaitChange waits for a report change that satisfies ok.
func (r *rig) awaitChange(ok func(Report) bool) {
	r.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if ok(r.detector.Report(r.env)) {
			return
		}
		select {
		case <-r.changes:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			r.t.Fatalf("no report change within 30s; report: %+v", r.detector.Report(r.env))
		}
	}
}

// memoryInUse returns the live heap after a GC and the process's resident set, in bytes.
func memoryInUse(b *testing.B) (heap, rss uint64) {
	b.Helper()
	// Return the garbage of the 10,000 applies to the OS, so that the resident set shows what
	// is live rather than the high-water mark of setting the benchmark up.
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				rss = kb << 10
			}
		}
	}
	return ms.HeapAlloc, rss
}

// reportPercentiles reports the p50, p99 and maximum of the latencies in milliseconds, their
// units prefixed with prefix.
func reportPercentiles(b *testing.B, prefix string, latencies []time.Duration) {
	slices.Sort(latencies)
	at := func(p float64) float64 {
		i := int(p * float64(len(latencies)-1))
		return float64(latencies[i].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), prefix+"p50-ms")
	b.ReportMetric(at(0.99), prefix+"p99-ms")
	b.ReportMetric(at(1), prefix+"max-ms")
	b.ReportMetric(0, "ns/op")
}
