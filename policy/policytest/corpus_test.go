package policytest_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/policy/policytest"
)

func TestCorpusLength(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 2, 3, 17, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			if got, want := len(policytest.Corpus(n)), max(n, 0); got != want {
				t.Errorf("len(Corpus(%d)) = %d, want %d", n, got, want)
			}
		})
	}
}

func TestCorpusIsDeterministic(t *testing.T) {
	a, b := policytest.Corpus(2000), policytest.Corpus(2000)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two corpora of the same size differ (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(a[:500], policytest.Corpus(500)); diff != "" {
		t.Errorf("Corpus(500) is not a prefix of Corpus(2000) (-prefix +smaller):\n%s", diff)
	}
}

func TestCorpusMix(t *testing.T) {
	objs := policytest.Corpus(10_000)
	counts := map[string]int{}
	for _, o := range objs {
		counts[o.Obj.GetKind()]++
	}
	// Objects of each kind in 10,000: roughly an organisation's environment.
	tests := []struct {
		kind     string
		min, max int
	}{
		{"CustomResourceDefinition", 2, 2},
		{"Namespace", 40, 40},
		{"Deployment", 800, 1300},
		{"StatefulSet", 150, 350},
		{"Job", 100, 250},
		{"CronJob", 100, 250},
		{"Service", 1000, 1500},
		{"ConfigMap", 1300, 1800},
		{"Secret", 1000, 1500},
		{"ServiceAccount", 1300, 1800},
		{"Ingress", 500, 900},
		{"HorizontalPodAutoscaler", 600, 1000},
		{"PodDisruptionBudget", 600, 1000},
		{"Database", 100, 200},
		{"FeatureFlag", 100, 200},
	}
	for _, tt := range tests {
		if got := counts[tt.kind]; got < tt.min || got > tt.max {
			t.Errorf("%d objects of kind %s in 10,000, want %d to %d", got, tt.kind, tt.min, tt.max)
		}
		delete(counts, tt.kind)
	}
	if len(counts) > 0 {
		t.Errorf("unexpected kinds in the corpus: %v", counts)
	}
}

// TestCorpusIsValid: every object passes the schema check, the CRs through the corpus's CRDs.
func TestCorpusIsValid(t *testing.T) {
	ctx := t.Context()
	v, err := policy.NewSchemaValidator(ctx, policy.DefaultSchemaOptions())
	if err != nil {
		t.Fatal(err)
	}
	findings, err := v.Validate(ctx, "test", policytest.Corpus(10_000))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings[:min(len(findings), 10)] {
		t.Errorf("%s (%s): %s %s: %s: %s", f.Object, f.Source, f.Severity, f.Rule, f.Field, f.Message)
	}
}

// TestCorpusBreaksSomePolicies: the corpus has findings of most rules, but few objects are
// denied, as in a repository that mostly follows the rules.
func TestCorpusBreaksSomePolicies(t *testing.T) {
	ctx := t.Context()
	set, err := policy.LoadRegoDir(ctx, "../../policies", policy.DefaultRegoOptions())
	if err != nil {
		t.Fatal(err)
	}
	objs := policytest.Corpus(10_000)
	findings, err := set.Evaluate(ctx, "test", objs)
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	denied := map[string]bool{}
	for _, f := range findings {
		rules[string(f.Severity)+"/"+f.Rule] = true
		if f.Severity == policy.Deny {
			denied[f.Object.String()] = true
		}
	}
	want := []string{
		"deny/host-access", "deny/image-tag", "deny/no-secret-env", "deny/resources",
		"deny/secret-in-configmap", "deny/security-context",
		"warn/probes", "warn/secret-env-ref", "warn/security-context", "warn/service-port-matches",
	}
	if diff := cmp.Diff(want, slices.Sorted(maps.Keys(rules))); diff != "" {
		t.Errorf("rules with findings (-want +got):\n%s", diff)
	}
	if share := float64(len(denied)) / float64(len(objs)); share < 0.01 || share > 0.06 {
		t.Errorf("%d of %d objects denied (%.1f%%), want 1%% to 6%%", len(denied), len(objs), 100*share)
	}
}
