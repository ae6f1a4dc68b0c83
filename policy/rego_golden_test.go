package policy

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-agent/gitops-agent/render"
)

// TestFindingsGolden pins the findings of the built-in policies on the benchmark corpus, a
// fuzzed corpus of environment variables and ConfigMaps drawn from the credential vocabulary of
// the rules' tests (invalid manifests included), and the fixtures: their number per rule and a
// digest of every finding, so that a change meant to make the policies faster cannot change
// what they find unnoticed. Refresh with -update after a change meant to change findings.
func TestFindingsGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates 14,000 objects")
	}
	set := loadTestRego(t, "../policies", DefaultRegoOptions())
	var fixtures []render.Object
	names, err := filepath.Glob(filepath.Join("testdata", "rego", "objects", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		fixtures = append(fixtures, fixture(t, strings.TrimSuffix(filepath.Base(name), ".yaml")))
	}
	corpora := []struct {
		name string
		objs []render.Object
	}{
		{"corpus", mixedCorpus(10_000)},
		{"fuzz", fuzzCorpus(4000)},
		{"fixtures", fixtures},
	}
	var b strings.Builder
	for _, c := range corpora {
		found, err := set.Evaluate(context.Background(), c.name, c.objs)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b.WriteString(findingsSummary(c.name, found))
	}
	golden := filepath.Join("testdata", "rego", "findings.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("findings changed (-want +got); run with -update if that is intended:\n%s", diff)
	}
}

// findingsSummary counts findings by severity and rule and digests all of them.
func findingsSummary(corpus string, found []Finding) string {
	counts := map[string]int{}
	h := sha256.New()
	for _, f := range found {
		counts[fmt.Sprintf("%s %s", f.Severity, f.Rule)]++
		fmt.Fprintf(h, "%s\t%s\t%s\t%s\t%s\t%q\t%q\t%q\n", f.Env, f.Object, f.Source, f.Rule, f.Severity, f.Field, f.Message, f.Exempted)
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&b, "%s %s %d\n", corpus, k, counts[k])
	}
	fmt.Fprintf(&b, "%s findings %d sha256 %x\n", corpus, len(found), h.Sum(nil))
	return b.String()
}
