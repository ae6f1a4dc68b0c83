package comparebench

import (
	"context"
	"testing"

	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/policy/policytest"
	"github.com/gitops-agent/gitops-agent/render"
)

const (
	// corpusSize is the size of the environment the throughput target is set for.
	corpusSize = 10_000
	// policyDir is the repository's policies/ folder; conftest reads the same files.
	policyDir = "../../policies"
	env       = "bench"
)

// validators are gitops-agent's checks, built once as the agent builds them at start-up.
type validators struct {
	schema *policy.SchemaValidator
	rego   *policy.RegoSet
	both   *policy.Validator
}

func newValidators(tb testing.TB, ctx context.Context) validators {
	tb.Helper()
	schema, err := policy.NewSchemaValidator(ctx, policy.DefaultSchemaOptions())
	if err != nil {
		tb.Fatalf("schema validator: %v", err)
	}
	rego, err := policy.LoadRegoDir(ctx, policyDir, policy.DefaultRegoOptions())
	if err != nil {
		tb.Fatalf("policies: %v", err)
	}
	return validators{
		schema: schema,
		rego:   rego,
		both:   policy.NewValidator(schema, func() *policy.RegoSet { return rego }),
	}
}

// BenchmarkValidate measures the schema check, the policies, and both together (what the agent
// runs on every commit) over a 10,000-object environment, in objects/s. The target is 20,000
// objects/s for both together on two cores: run with -cpu 2 on a bigger machine.
func BenchmarkValidate(b *testing.B) {
	ctx := b.Context()
	v := newValidators(b, ctx)
	objs := policytest.Corpus(corpusSize)
	// The corpus is valid for the API but breaks a few policies; a check that finds nothing,
	// or finds problems in valid objects, measures the wrong thing.
	checks := []struct {
		name     string
		validate func(context.Context, string, []render.Object) ([]policy.Finding, error)
		denies   bool
	}{
		{"schema", v.schema.Validate, false},
		{"policies", v.rego.Evaluate, true},
		{"both", v.both.Validate, true},
	}
	for _, c := range checks {
		b.Run(c.name, func(b *testing.B) {
			var findings []policy.Finding
			for b.Loop() {
				var err error
				if findings, err = c.validate(ctx, env, objs); err != nil {
					b.Fatal(err)
				}
			}
			if got := denials(findings); (got > 0) != c.denies {
				b.Fatalf("%d deny findings on the corpus, want %s", got, map[bool]string{true: "some", false: "none"}[c.denies])
			}
			b.ReportMetric(float64(len(objs)*b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

func denials(findings []policy.Finding) int {
	var n int
	for _, f := range findings {
		if f.Severity == policy.Deny {
			n++
		}
	}
	return n
}
