package apply_test

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/localcluster/clustertest"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// BenchmarkApply100 applies an environment of 100 objects (40 ConfigMaps, 20 Secrets, 20
// Services, 20 Deployments): created into an empty namespace, re-applied unchanged, and
// re-applied with one ConfigMap changed, the common case of a push.
func BenchmarkApply100(b *testing.B) {
	e := newEnv(b)
	opts := apply.DefaultApplyOptions("bench")

	b.Run("created", func(b *testing.B) {
		writes := 0
		for b.Loop() {
			b.StopTimer()
			objs := environmentObjects(clustertest.Namespace(b, e.cs), 100, "v1")
			e.counter.take()
			b.StartTimer()
			mustApply(b, e, objs, opts, apply.ActionCreated, 100)
			writes += len(e.counter.take())
		}
		b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	})

	objs := environmentObjects(e.ns, 100, "v1")
	mustApply(b, e, objs, opts, apply.ActionCreated, 100)
	b.Run("unchanged", func(b *testing.B) {
		e.counter.take()
		for b.Loop() {
			mustApply(b, e, objs, opts, apply.ActionUnchanged, 100)
		}
		reportWrites(b, e)
	})

	// A restarted agent knows no verified state: every object is compared with a dry run.
	b.Run("unchanged-new-manager", func(b *testing.B) {
		e.counter.take()
		for b.Loop() {
			b.StopTimer()
			m := e.newManager()
			b.StartTimer()
			cs, err := m.Apply(context.Background(), objs, opts)
			if err != nil || cs.Count(apply.ActionUnchanged) != 100 {
				b.Fatalf("%v: %s", err, cs.Summary())
			}
		}
		reportWrites(b, e)
	})

	b.Run("one-changed", func(b *testing.B) {
		e.counter.take()
		i := 0
		for b.Loop() {
			i++
			if err := unstructured.SetNestedField(objs[0].Object, fmt.Sprint(i), "data", "revision"); err != nil {
				b.Fatal(err)
			}
			mustApply(b, e, objs, opts, apply.ActionConfigured, 1)
		}
		reportWrites(b, e)
	})
}

var benchEnvs = flag.Int("bench-envs", 100, "environments BenchmarkApplyEnvironments applies (the target is 1000)")

// BenchmarkApplyEnvironments applies -bench-envs environments of 10 objects each (a Namespace
// and 9 objects in it), 16 environments at a time through one Manager, as the agent's initial
// sync does; objects/s is what the 1,000 environment target needs (10,000 objects in 60 s is
// 167 objects/s).
func BenchmarkApplyEnvironments(b *testing.B) {
	e := newEnv(b)
	envs := *benchEnvs
	const perEnv, parallel = 10, 16
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		sets := make([][]*unstructured.Unstructured, envs)
		for i := range sets {
			ns := e.ns + fmt.Sprintf("-e%d", i)
			sets[i] = append([]*unstructured.Unstructured{namespace(ns)}, environmentObjects(ns, perEnv-1, "v1")...)
			e.cleanupClusterScoped(sets[i][:1])
		}
		e.counter.take()
		b.StartTimer()

		start := time.Now()
		var wg sync.WaitGroup
		sem := make(chan struct{}, parallel)
		errs := make(chan error, envs)
		for i, objs := range sets {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				_, err := e.manager.Apply(ctx, objs, apply.DefaultApplyOptions(fmt.Sprintf("env-%d", i)))
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		took := time.Since(start)
		b.ReportMetric(float64(envs*perEnv)/took.Seconds(), "objects/s")
		b.ReportMetric(took.Seconds(), "s/initial-sync")
	}
}

func mustApply(b *testing.B, e *env, objs []*unstructured.Unstructured, opts apply.ApplyOptions, action apply.Action, want int) {
	b.Helper()
	cs, err := e.manager.Apply(context.Background(), objs, opts)
	if err != nil {
		b.Fatal(err)
	}
	if got := cs.Count(action); got != want {
		b.Fatalf("%d objects %s, want %d: %s", got, action, want, cs.Summary())
	}
}

func reportWrites(b *testing.B, e *env) {
	b.ReportMetric(float64(len(e.counter.take()))/float64(b.N), "writes/op")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}

// environmentObjects returns n objects in ns: two fifths ConfigMaps, and a fifth each Secrets,
// Services and Deployments.
func environmentObjects(ns string, n int, image string) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, n)
	for i := range n {
		name := fmt.Sprintf("app-%03d", i)
		var u map[string]any
		switch i % 5 {
		case 0, 1:
			u = map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"config.yaml": "replicas: 3\nlevel: info\n"}}
		case 2:
			u = map[string]any{"apiVersion": "v1", "kind": "Secret", "stringData": map[string]any{"password": "pw-" + name}}
		case 3:
			// Headless: the local cluster's service range holds only 254 addresses.
			u = map[string]any{"apiVersion": "v1", "kind": "Service", "spec": map[string]any{
				"clusterIP": "None",
				"selector":  map[string]any{"app": name},
				"ports":     []any{map[string]any{"name": "http", "port": int64(80), "targetPort": int64(8080)}},
			}}
		case 4:
			labels := map[string]any{"app": name}
			u = map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "spec": map[string]any{
				"replicas": int64(1),
				"selector": map[string]any{"matchLabels": labels},
				"template": map[string]any{
					"metadata": map[string]any{"labels": labels},
					"spec": map[string]any{"containers": []any{map[string]any{
						"name": "app", "image": "registry.example/" + name + ":" + image,
					}}},
				},
			}}
		}
		u["metadata"] = map[string]any{"name": name, "namespace": ns}
		out = append(out, &unstructured.Unstructured{Object: u})
	}
	return out
}
