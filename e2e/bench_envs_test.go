package e2e_test

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-agent/gitops-agent/config"
	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

var (
	benchEnvs = flag.Int("e2e.envs", 1000, "environments of BenchmarkInitialSync")
	// The agent's defaults (8 workers, 200 requests a second) apply 1,000 environments in
	// about 200s: each takes some 35 requests, and the client-side rate limit paces them.
	benchWorkers = flag.Int("e2e.workers", 32, "the agent's --workers in BenchmarkInitialSync")
	benchQPS     = flag.Int("e2e.kube-qps", 1000, "the agent's --kube-qps in BenchmarkInitialSync (--kube-burst is twice that)")
)

// BenchmarkInitialSync starts an agent on 1,000 environments of ten objects each, each in its
// own namespace, and reports the time until every one is Applied, the time until every one is
// healthy (paced by the controller manager, which must observe each Deployment), and the
// agent's peak RSS. It then restarts the agent with nothing changed and reports the API writes
// of the restart, read from the API server's apiserver_request_total: every POST, PUT, PATCH,
// APPLY and DELETE that is not a dry run, except those on Leases (the agent's leader lease is
// renewed every 2s, the fake node's by kwok), on Events and on nodes/status (kwok's node
// heartbeat): the counter does not say who wrote, and none of these is the agent's sync.
func BenchmarkInitialSync(b *testing.B) {
	w := newWorld(b)
	d := newDeployments(b)
	n := *benchEnvs
	prefix := fmt.Sprintf("b%05d", time.Now().UnixNano()/1000%100000)
	files := map[string]string{}
	envs := make([]config.Environment, n)
	for i := range n {
		name := fmt.Sprintf("e%04d", i)
		vars := map[string]string{"NAMESPACE": prefix + "-" + name}
		files[envPath(name, "kustomization.yaml")] = fixture(b, "bench/kustomization.yaml", vars)
		files[envPath(name, "objects.yaml")] = fixture(b, "bench/objects.yaml", vars)
		envs[i] = config.Environment{Name: name, HealthTimeout: config.Duration{Duration: 5 * time.Minute}}
	}
	head := d.push(b, fmt.Sprintf("%d environments", n), files)
	b.Cleanup(func() { w.deleteNamespaces(prefix + "-") })

	cfg := agentConfig(b, d, w.agentNS, envs...)
	on := true
	cfg.LeaderElection.Enabled = &on
	flags := []string{"--workers", fmt.Sprint(*benchWorkers), "--kube-qps", fmt.Sprint(*benchQPS), "--kube-burst", fmt.Sprint(2 * *benchQPS)}

	b.ResetTimer()
	started := time.Now()
	a := startAgent(b, "agent", cfg, flags...)
	a.waitSyncs(10*time.Minute, n)
	applied := time.Since(started)
	w.waitAllEnvironments(10*time.Minute, n, "applied at "+head[:12], func(st *reconcile.Status) bool {
		return st.LastApplied != nil && st.LastApplied.Commit == head
	})
	w.waitAllEnvironments(10*time.Minute, n, "healthy", func(st *reconcile.Status) bool { return st.Health == reconcile.HealthReady })
	healthy := time.Since(started)
	b.StopTimer()
	rss, err := a.peakRSS()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(applied.Seconds(), "applied-s")
	b.ReportMetric(healthy.Seconds(), "healthy-s")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	b.Logf("initial sync of %d environments (%d objects) with %s: all Applied after %s, all healthy after %s, peak RSS %.0f MiB",
		n, 10*n, strings.Join(flags, " "), applied.Round(time.Millisecond), healthy.Round(time.Millisecond), float64(rss)/(1<<20))

	// A restart with nothing changed re-applies every environment, which must write nothing.
	a.stop()
	time.Sleep(2 * time.Second) // let the controllers settle what the stop left (none expected)
	before := w.apiRequests()
	restarted := time.Now()
	a = startAgent(b, "agent-restarted", cfg, flags...)
	a.waitSyncs(10*time.Minute, n)
	resynced := time.Since(restarted)
	// Each sync ends with a health check, which reads only; leave it time to finish.
	time.Sleep(5 * time.Second)
	after := w.apiRequests()
	a.stop()
	writes, excluded, dryRuns := writesBetween(before, after)
	b.ReportMetric(float64(total(writes)), "restart-writes")
	b.Logf("restart with nothing changed: every environment re-applied within %s; API writes %d %v; not counted: %v, dry runs %v",
		resynced.Round(time.Millisecond), total(writes), writes, excluded, dryRuns)
	b.ReportMetric(0, "ns/op")
}

// waitSyncs waits until the agent counts at least n successful syncs.
func (a *agent) waitSyncs(timeout time.Duration, n int) {
	a.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := sample(a.metrics(), "gitops_agent_syncs_total", map[string]string{"result": "Applied"})
		if got >= float64(n) {
			return
		}
		if time.Now().After(deadline) {
			a.tb.Fatalf("agent %s: %v of %d environments applied after %s", a.name, got, n, timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitAllEnvironments waits until n Environments exist and each satisfies ok.
func (w *world) waitAllEnvironments(timeout time.Duration, n int, what string, ok func(*reconcile.Status) bool) {
	w.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		list, err := w.dyn.Resource(reconcile.EnvironmentGVR).Namespace(w.agentNS).List(w.tb.Context(), metav1.ListOptions{})
		if err != nil {
			w.tb.Fatal(err)
		}
		good, example := 0, ""
		for _, item := range list.Items {
			st, err := w.status(w.tb.Context(), item.GetName())
			if err == nil && st != nil && ok(st) {
				good++
			} else if example == "" {
				example = item.GetName() + ": " + describe(st)
			}
		}
		if good >= n {
			return
		}
		if time.Now().After(deadline) {
			w.tb.Fatalf("%d of %d environments %s after %s; for example %s", good, n, what, timeout, example)
		}
		time.Sleep(2 * time.Second)
	}
}

// deleteNamespaces deletes the namespaces whose names start with prefix, without waiting.
func (w *world) deleteNamespaces(prefix string) {
	ctx := context.Background()
	list, err := w.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		w.tb.Errorf("list namespaces: %v", err)
		return
	}
	for _, ns := range list.Items {
		if !strings.HasPrefix(ns.Name, prefix) {
			continue
		}
		if err := w.kube.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			w.tb.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	}
}

// apiRequests reads apiserver_request_total from the API server's /metrics.
func (w *world) apiRequests() map[string]*dto.MetricFamily {
	w.tb.Helper()
	raw, err := w.kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(w.tb.Context())
	if err != nil {
		w.tb.Fatalf("read the API server's /metrics: %v", err)
	}
	return parseMetrics(w.tb, raw)
}

// writesBetween counts the write requests between two scrapes of apiserver_request_total, by
// "VERB resource[/subresource]": those counted, those on Leases and Events, and dry runs.
func writesBetween(before, after map[string]*dto.MetricFamily) (writes, excluded, dryRuns map[string]int) {
	writes, excluded, dryRuns = map[string]int{}, map[string]int{}, map[string]int{}
	count := func(fams map[string]*dto.MetricFamily) map[string]float64 {
		out := map[string]float64{}
		for _, m := range fams["apiserver_request_total"].GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			switch l["verb"] {
			case "POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION":
			default:
				continue
			}
			what := l["verb"] + " " + l["resource"]
			if l["subresource"] != "" {
				what += "/" + l["subresource"]
			}
			out[l["dry_run"]+"|"+what] += m.GetCounter().GetValue()
		}
		return out
	}
	b, a := count(before), count(after)
	for _, key := range slices.Sorted(maps.Keys(a)) {
		delta := int(a[key] - b[key])
		if delta == 0 {
			continue
		}
		dry, what, _ := strings.Cut(key, "|")
		resource := strings.Fields(what)[1]
		switch {
		case dry != "":
			dryRuns[what] += delta
		case resource == "leases" || resource == "events" || resource == "nodes/status":
			excluded[what] += delta
		default:
			writes[what] += delta
		}
	}
	return writes, excluded, dryRuns
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
