//go:build unix

package policy

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/gitops-agent/gitops-agent/render"
)

// benchmarkObjects builds n objects of the mix a large environment renders: Deployments,
// Services, ConfigMaps, StatefulSets, Jobs, Secrets, Ingresses and a few custom resources.
func benchmarkObjects(b *testing.B, n int) []render.Object {
	b.Helper()
	templates := map[string]render.Object{}
	for _, o := range append(readObjects(b, "builtin-valid.yaml"), readObjects(b, "widget-valid.yaml")...) {
		templates[o.Obj.GetKind()] = o
	}
	mix := []struct {
		kind   string
		weight int
	}{
		{"Deployment", 20}, {"Service", 20}, {"ConfigMap", 20}, {"StatefulSet", 10},
		{"Job", 10}, {"Secret", 10}, {"Ingress", 9}, {"Widget", 1},
	}
	objs := make([]render.Object, 0, n)
	for len(objs) < n {
		for _, m := range mix {
			for range m.weight {
				if len(objs) == n {
					break
				}
				t, ok := templates[m.kind]
				if !ok {
					b.Fatalf("no %s in the fixtures", m.kind)
				}
				u := t.Obj.DeepCopy()
				u.SetName(fmt.Sprintf("%s-%d", u.GetName(), len(objs)))
				objs = append(objs, render.Object{Obj: u, Source: t.Source})
			}
		}
	}
	return objs
}

// BenchmarkSchemaValidate measures the offline schema check of 10,000 mixed objects; run it with
// -cpu 2 to match the target machine. objects/s is what the target is set in; cpu-µs/object is
// the CPU time the process spent per object, which a busy machine distorts less.
func BenchmarkSchemaValidate(b *testing.B) {
	ctx := context.Background()
	v, err := NewSchemaValidator(ctx, SchemaOptions{CRDDirs: []string{schemaTestdata + "/crds"}})
	if err != nil {
		b.Fatal(err)
	}
	objs := benchmarkObjects(b, 10_000)
	cpuBefore := processCPUTime(b)
	for b.Loop() {
		findings, err := v.Validate(ctx, "bench", objs)
		if err != nil {
			b.Fatal(err)
		}
		if len(findings) != 0 {
			b.Fatalf("valid objects gave findings:\n%s", formatFindings(findings[:min(len(findings), 5)]))
		}
	}
	cpu := processCPUTime(b) - cpuBefore
	b.ReportMetric(float64(len(objs)*b.N)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(objs)*b.N), "cpu-µs/object")
}

// processCPUTime is the user and system CPU time the process has used.
func processCPUTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
