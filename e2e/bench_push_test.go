package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
)

// pushesPerRun is how many commits one run of BenchmarkPushToApplied pushes.
const pushesPerRun = 20

// BenchmarkPushToApplied measures push→applied for a 100-object environment: from the moment
// `git push` returns until the changed ConfigMap shows the new value in the cluster, once with
// a GitHub webhook sent right after the push and once with only polling every second. It
// reports the median and the 99th percentile (of 20 pushes, the slowest).
func BenchmarkPushToApplied(b *testing.B) {
	for _, tt := range []struct {
		name    string
		poll    time.Duration
		webhook bool
	}{
		{"webhook", 10 * time.Minute, true},
		{"poll-1s", time.Second, false},
	} {
		b.Run(tt.name, func(b *testing.B) {
			w := newWorld(b)
			d := newDeployments(b)
			const env = "latency"
			files := appFiles(b, env, w.ns)
			files[envPath(env, "kustomization.yaml")] = fixture(b, "kustomization-bulk.yaml", map[string]string{"NAMESPACE": w.ns})
			files[envPath(env, "bulk.yaml")] = bulkConfigMaps("bulk", 96, "v1")
			first := d.push(b, "100 objects", files)
			cfg := agentConfig(b, d, w.agentNS, autoEnv(env))
			cfg.Repo.PollInterval.Duration = tt.poll
			a := startAgent(b, "agent", cfg)
			w.waitApplied(120*time.Second, env, first)

			var latencies []time.Duration
			b.ResetTimer()
			for i := range b.N * pushesPerRun {
				if !tt.webhook {
					// Pushes follow syncs, which follow polls: without a random pause every
					// push would land just after a poll and wait a whole interval.
					time.Sleep(rand.N(tt.poll))
				}
				greeting := fmt.Sprintf("push-%d", i)
				wt, err := w.watchConfigMap(b.Context(), "settings")
				if err != nil {
					b.Fatal(err)
				}
				commit := d.push(b, greeting, withGreeting(appFiles(b, env, w.ns), env, greeting))
				pushed := time.Now()
				if tt.webhook {
					a.notifyPush(b, commit)
				}
				applied := until(b, wt, 60*time.Second, greetingIs(greeting))
				wt.Stop()
				latencies = append(latencies, applied.Sub(pushed))
				// The sync is over (its status written) before the next push.
				w.waitApplied(30*time.Second, env, commit)
			}
			b.StopTimer()
			slices.Sort(latencies)
			p50, p99 := percentile(latencies, 0.5), percentile(latencies, 0.99)
			b.ReportMetric(p50.Seconds(), "p50-s")
			b.ReportMetric(p99.Seconds(), "p99-s")
			b.ReportMetric(0, "ns/op")
			b.Logf("push→applied over %d pushes (%s): p50 %s, p99 %s, min %s", len(latencies), tt.name,
				p50.Round(time.Millisecond), p99.Round(time.Millisecond), latencies[0].Round(time.Millisecond))
		})
	}
}

// percentile returns the q-quantile (0 < q ≤ 1) of sorted durations, by the nearest-rank method.
func percentile(sorted []time.Duration, q float64) time.Duration {
	rank := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

// watchConfigMap watches ConfigMap name of w.ns from now on.
func (w *world) watchConfigMap(ctx context.Context, name string) (watch.Interface, error) {
	list, err := w.kube.CoreV1().ConfigMaps(w.ns).List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		return nil, err
	}
	return w.kube.CoreV1().ConfigMaps(w.ns).Watch(ctx, metav1.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", name).String(),
		ResourceVersion: list.ResourceVersion,
	})
}

// until returns when the watch delivers a ConfigMap that satisfies ok.
func until(tb testing.TB, wt watch.Interface, timeout time.Duration, ok func(*corev1.ConfigMap) bool) time.Time {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, open := <-wt.ResultChan():
			if !open {
				tb.Fatal("the ConfigMap watch ended")
			}
			if cm, isCM := ev.Object.(*corev1.ConfigMap); isCM && ok(cm) {
				return time.Now()
			}
		case <-deadline:
			tb.Fatalf("the ConfigMap did not change as expected within %s", timeout)
		}
	}
}
