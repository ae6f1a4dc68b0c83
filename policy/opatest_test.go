package policy

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPoliciesRego runs the Rego tests of the repository's policies, so that `go test` (and
// make test) fails when a rule's own tests fail.
func TestPoliciesRego(t *testing.T) {
	report, err := RunPolicyTests(context.Background(), "../policies")
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Results) == 0 {
		t.Fatal("no Rego tests found in ../policies")
	}
	for _, r := range report.Results {
		t.Run(strings.TrimPrefix(r.Name, "data."), func(t *testing.T) {
			if r.Outcome == TestFail || r.Outcome == TestError {
				t.Errorf("%s %s:%d\n%s%s\n%s", r.Outcome, r.File, r.Row, r.FailedAt, r.Error, r.Output)
			}
		})
	}
}

func TestDefaultPolicyTestsPass(t *testing.T) {
	report, err := RunDefaultPolicyTests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() || report.Count(TestPass) == 0 {
		var b bytes.Buffer
		report.WriteTo(&b)
		t.Fatalf("the embedded policies' tests do not pass:\n%s", b.String())
	}
}

// TestRunPolicyTestsReport checks the report of a folder with a passing, a failing and a
// skipped test against testdata/rego/tests.golden (go test -update rewrites it; the flag is
// the package's, declared in report_test.go).
func TestRunPolicyTestsReport(t *testing.T) {
	dir := filepath.Join("testdata", "rego", "tests")
	report, err := RunPolicyTests(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if report.OK() {
		t.Error("OK() with a failing test")
	}
	var b bytes.Buffer
	if _, err := report.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "rego", "tests.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

func TestRunPolicyTestsErrors(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{"policy that does not parse", "testdata/rego/broken", "bad.rego:6"},
		{"missing folder", "testdata/rego/missing", "policy directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RunPolicyTests(context.Background(), tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
