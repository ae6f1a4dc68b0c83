package comparebench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/policy/policytest"
	"github.com/gitops-agent/gitops-agent/render"
)

// crossObjectRules read the whole environment (data.gitops), which only our engine provides:
// under conftest they stay silent by design (policies/README.md).
var crossObjectRules = map[string]bool{"service-selects-workload": true, "service-port-matches": true}

// BenchmarkCompare times kubeconform and conftest on the 10,000-object corpus, written to a
// YAML file, and ours on the same objects in the same process, and reports objects/s of each
// and how many times faster ours is (x-...):
//
//   - schema vs kubeconform -strict, with schemas generated from the same Kubernetes version
//     and from the corpus's CRDs;
//   - policies vs conftest test with the same policies/ folder;
//   - both (policy.Validator) vs the two tools one after the other; both-from-file adds
//     reading and decoding the YAML file, which the tools' figures include, as they include
//     starting their process and loading schemas or compiling policies.
//
// Ours are measured on objects already in memory, as the agent validates what it rendered.
// Each run checks that the tools did the work: kubeconform read every object and found every
// one valid (as ours does), and conftest reported, rule by rule, the findings ours reports
// (except the cross-object rules that need the environment conftest does not have).
func BenchmarkCompare(b *testing.B) {
	t := toolsFromEnv(b)
	ctx := b.Context()
	objs := policytest.Corpus(corpusSize)
	dir := b.TempDir()
	file := filepath.Join(dir, "corpus.yaml")
	if err := writeCorpus(file, objs); err != nil {
		b.Fatal(err)
	}
	crdSchemas := filepath.Join(dir, "crd-schemas")
	if err := os.Mkdir(crdSchemas, 0o755); err != nil {
		b.Fatal(err)
	}
	if n, err := writeCRDSchemas(objs, crdSchemas); err != nil || n == 0 {
		b.Fatalf("kubeconform schemas of the corpus's CRDs: wrote %d, error %v", n, err)
	}
	v := newValidators(b, ctx)
	wantConftest := expectedConftestCounts(b, ctx, v, objs)

	var schema, policies, both, fromFile, kc, cf time.Duration
	for b.Loop() {
		schema += timed(b, func() error { return noFindings(v.schema.Validate(ctx, env, objs)) })
		policies += timed(b, func() error { _, err := v.rego.Evaluate(ctx, env, objs); return err })
		both += timed(b, func() error { _, err := v.both.Validate(ctx, env, objs); return err })
		fromFile += timed(b, func() error {
			read, err := readCorpus(file)
			if err != nil {
				return err
			}
			_, err = v.both.Validate(ctx, env, read)
			return err
		})

		report, run, err := kubeconform(ctx, t.kubeconform, file, t.schemas, crdSchemas)
		if err != nil {
			b.Fatal(err)
		}
		checkKubeconform(b, report, len(objs))
		kc += run.elapsed

		results, run, err := conftest(ctx, t.conftest, policyDir, file)
		if err != nil {
			b.Fatal(err)
		}
		checkConftest(b, results, wantConftest, len(objs))
		cf += run.elapsed
	}

	perSecond := func(d time.Duration) float64 { return float64(len(objs)*b.N) / d.Seconds() }
	b.ReportMetric(perSecond(schema), "schema-objects/s")
	b.ReportMetric(perSecond(kc), "kubeconform-objects/s")
	b.ReportMetric(kc.Seconds()/schema.Seconds(), "x-schema-vs-kubeconform")
	b.ReportMetric(perSecond(policies), "policies-objects/s")
	b.ReportMetric(perSecond(cf), "conftest-objects/s")
	b.ReportMetric(cf.Seconds()/policies.Seconds(), "x-policies-vs-conftest")
	b.ReportMetric(perSecond(both), "both-objects/s")
	b.ReportMetric(perSecond(fromFile), "both-from-file-objects/s")
	b.ReportMetric(perSecond(kc+cf), "tools-objects/s")
	b.ReportMetric((kc+cf).Seconds()/fromFile.Seconds(), "x-both-from-file-vs-tools")
}

// timed runs f and returns how long it took.
func timed(b *testing.B, f func() error) time.Duration {
	start := time.Now()
	if err := f(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// noFindings fails when the schema check finds anything: the corpus is valid, and kubeconform
// is checked to agree.
func noFindings(findings []policy.Finding, err error) error {
	if err != nil {
		return err
	}
	if len(findings) > 0 {
		f := findings[0]
		return fmt.Errorf("the schema check found %d problems in the corpus, which must be valid; the first: %s: %s: %s", len(findings), f.Object, f.Field, f.Message)
	}
	return nil
}

// expectedConftestCounts are our policy findings by severity and rule, without the rules
// conftest cannot evaluate.
func expectedConftestCounts(b testing.TB, ctx context.Context, v validators, objs []render.Object) map[string]int {
	b.Helper()
	findings, err := v.rego.Evaluate(ctx, env, objs)
	if err != nil {
		b.Fatal(err)
	}
	counts := map[string]int{}
	for _, f := range findings {
		if !crossObjectRules[f.Rule] {
			counts[string(f.Severity)+"/"+f.Rule]++
		}
	}
	if len(counts) == 0 {
		b.Fatal("our policies find nothing in the corpus: the comparison with conftest would prove nothing")
	}
	return counts
}

func checkKubeconform(b testing.TB, report kubeconformReport, objects int) {
	b.Helper()
	if s := report.Summary; report.total() != objects || s.Valid != objects {
		var problems bytes.Buffer
		for _, r := range report.Resources[:min(len(report.Resources), 5)] {
			fmt.Fprintf(&problems, "\n  %s %s/%s: %s: %s", r.Version, r.Kind, r.Name, r.Status, r.Msg)
		}
		b.Fatalf("kubeconform read %d of %d objects, %d valid, %d invalid, %d errors, %d skipped; want all valid:%s",
			report.total(), objects, s.Valid, s.Invalid, s.Errors, s.Skipped, problems.String())
	}
}

func checkConftest(b testing.TB, results []conftestResult, want map[string]int, objects int) {
	b.Helper()
	if len(results) != 1 || results[0].Namespace != "main" {
		b.Fatalf("conftest reported on %d files/namespaces, want the corpus file in namespace main: %+v", len(results), results)
	}
	r := results[0]
	// conftest counts at least one result (success, failure or warning) per object.
	if n := r.Successes + len(r.Failures) + len(r.Warnings); n < objects {
		b.Fatalf("conftest reported %d results for %d objects: it did not evaluate them all", n, objects)
	}
	if diff := cmp.Diff(want, conftestCounts(results)); diff != "" {
		b.Fatalf("conftest's findings by rule differ from ours (-ours +conftest):\n%s", diff)
	}
}

func writeCorpus(file string, objs []render.Object) error {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("write the corpus: %w", err)
	}
	if err := policytest.WriteYAML(f, objs); err != nil {
		f.Close()
		return fmt.Errorf("write the corpus to %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the corpus: %w", err)
	}
	return nil
}

// readCorpus decodes a multi-document YAML file into objects, as the agent's render does.
func readCorpus(file string) ([]render.Object, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read the corpus: %w", err)
	}
	defer f.Close()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var objs []render.Object
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
		data, err := utilyaml.ToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, len(objs)+1, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, len(objs)+1, err)
		}
		objs = append(objs, render.Object{Obj: u, Source: file})
	}
}
