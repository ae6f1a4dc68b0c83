package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/gitops-agent/gitops-agent/policies"
)

// TestOutcome is how one Rego test ended.
type TestOutcome string

const (
	TestPass  TestOutcome = "PASS"
	TestFail  TestOutcome = "FAIL"
	TestError TestOutcome = "ERROR"
	TestSkip  TestOutcome = "SKIP" // a test named todo_test_...
)

// TestResult is the result of one Rego test rule (test_...).
type TestResult struct {
	Name     string // "data.main_test.test_deny_latest"
	File     string
	Row      int
	Outcome  TestOutcome
	Duration time.Duration
	// FailedAt is the expression that failed, as "file:row: expression", when known.
	FailedAt string
	// Error is the evaluation error of an ERROR outcome.
	Error string
	// Output is what the test printed with print().
	Output string
}

// TestReport is the outcome of a policy test run, in file and row order.
type TestReport struct {
	Results []TestResult
}

// Count returns how many tests ended with outcome o.
func (r TestReport) Count(o TestOutcome) int {
	n := 0
	for _, t := range r.Results {
		if t.Outcome == o {
			n++
		}
	}
	return n
}

// OK says whether no test failed or errored.
func (r TestReport) OK() bool { return r.Count(TestFail) == 0 && r.Count(TestError) == 0 }

// WriteTo prints the report: one line per test, the failing expression under each failure,
// and a closing "N passed, N failed" count (errors count as failures).
func (r TestReport) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	for _, t := range r.Results {
		fmt.Fprintf(&b, "%-5s %s (%s:%d)\n", t.Outcome, t.Name, t.File, t.Row)
		if t.FailedAt != "" {
			fmt.Fprintf(&b, "      failed at %s\n", t.FailedAt)
		}
		if t.Error != "" {
			fmt.Fprintf(&b, "      %s\n", t.Error)
		}
		for line := range strings.Lines(t.Output) {
			fmt.Fprintf(&b, "      | %s", line)
			if !strings.HasSuffix(line, "\n") {
				b.WriteString("\n")
			}
		}
	}
	fmt.Fprintf(&b, "%d passed, %d failed", r.Count(TestPass), r.Count(TestFail)+r.Count(TestError))
	if n := r.Count(TestSkip); n > 0 {
		fmt.Fprintf(&b, ", %d skipped", n)
	}
	b.WriteString("\n")
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// RunPolicyTests runs the Rego unit tests (test_ rules, usually in _test.rego files) of the
// policies under dir with OPA's test runner. The error is for tests that could not run (a
// policy that does not compile, an unreadable folder); failing tests are in the report.
func RunPolicyTests(ctx context.Context, dir string) (TestReport, error) {
	if _, err := os.Stat(dir); err != nil {
		return TestReport{}, fmt.Errorf("policy directory: %w", err)
	}
	return runPolicyTests(ctx, os.DirFS(dir), func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) })
}

// RunDefaultPolicyTests runs the tests of the policies built into the binary.
func RunDefaultPolicyTests(ctx context.Context) (TestReport, error) {
	return runPolicyTests(ctx, policies.FS(), func(name string) string { return "policies/" + name })
}

func runPolicyTests(ctx context.Context, fsys fs.FS, display func(string) string) (TestReport, error) {
	sources, err := readRegoFS(ctx, fsys, display, true)
	if err != nil {
		return TestReport{}, err
	}
	modules, err := parseRegoSources(sources)
	if err != nil {
		return TestReport{}, err
	}
	store := inmem.New()
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return TestReport{}, fmt.Errorf("run policy tests: %w", err)
	}
	defer store.Abort(ctx, txn)

	runner := tester.NewRunner().
		SetCompiler(newRegoCompiler().WithEnablePrintStatements(true)).
		SetStore(store).
		SetModules(modules).
		CapturePrintOutput(true).
		EnableTracing(true) // for the failing expression
	ch, err := runner.RunTests(ctx, txn)
	if err != nil {
		var astErrs ast.Errors
		if errors.As(err, &astErrs) {
			return TestReport{}, compileErrorOf(astErrs)
		}
		return TestReport{}, fmt.Errorf("run policy tests: %w", err)
	}
	var report TestReport
	for r := range ch {
		report.Results = append(report.Results, testResultOf(r))
	}
	if err := ctx.Err(); err != nil {
		return report, err
	}
	slices.SortFunc(report.Results, func(a, b TestResult) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Row - b.Row
	})
	return report, nil
}

func testResultOf(r *tester.Result) TestResult {
	t := TestResult{
		Name:     r.Package + "." + r.Name,
		Duration: r.Duration,
		Output:   string(r.Output),
	}
	if r.Location != nil {
		t.File, t.Row = r.Location.File, r.Location.Row
	}
	switch {
	case r.Skip:
		t.Outcome = TestSkip
	case r.Error != nil:
		t.Outcome, t.Error = TestError, r.Error.Error()
	case r.Fail:
		t.Outcome, t.FailedAt = TestFail, failedAt(r.Trace)
	default:
		t.Outcome = TestPass
	}
	return t
}

// failedAt finds, as `opa test` does, the last expression of the test that failed.
func failedAt(trace []*topdown.Event) string {
	for _, e := range slices.Backward(trace) {
		if e.Op != topdown.FailOp || e.Location == nil || e.QueryID == 0 {
			continue
		}
		expr, ok := e.Node.(*ast.Expr)
		if !ok {
			continue
		}
		if _, every := expr.Terms.(*ast.Every); every {
			continue // the failing expression inside the every body comes later
		}
		return fmt.Sprintf("%s:%d: %s", e.Location.File, e.Location.Row, strings.TrimSpace(string(e.Location.Text)))
	}
	return ""
}
