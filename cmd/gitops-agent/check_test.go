package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/gitops-agent/gitops-agent/policy"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestCheckTextGolden(t *testing.T) {
	stdout, stderr, code := runCLI(t, "check", "--repo", "testdata/checkrepo")
	if code != exitError {
		t.Errorf("exit code = %d, want %d: an environment that does not render fails the check (stderr: %s)", code, exitError, stderr)
	}
	golden(t, "check-checkrepo.golden", stdout)
	if strings.Contains(stdout, "hunter2") {
		t.Error("the check printed a secret value")
	}
}

func TestCheckExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStdout string
		wantStderr string
	}{
		{name: "clean environment", args: []string{"--repo", "testdata/checkrepo", "--env", "good"}, want: exitOK, wantStdout: "OK: 1 environment(s), 2 object(s)"},
		{name: "deny findings", args: []string{"--repo", "testdata/checkrepo", "--env", "bad"}, want: exitFinding, wantStdout: "FAILED"},
		{name: "render error", args: []string{"--repo", "testdata/checkrepo", "--env", "broken"}, want: exitError, wantStdout: `resource "missing.yaml"`},
		{name: "unknown environment", args: []string{"--repo", "testdata/checkrepo", "--env", "qa"}, want: exitError, wantStdout: "environments/qa"},
		{name: "no repository", args: []string{"--repo", "testdata/nope"}, want: exitError, wantStderr: "is not a directory"},
		{name: "all and env", args: []string{"--all", "--env", "good"}, want: exitError, wantStderr: "exclude each other"},
		{name: "bad format", args: []string{"-o", "yaml"}, want: exitError, wantStderr: `-o "yaml"`},
		{name: "policies do not compile", args: []string{"--repo", "testdata/checkrepo", "--policies", "testdata/brokenpolicies"}, want: exitError, wantStderr: "broken.rego:8:1: rego_parse_error"},
		{name: "this repository's own environments", args: []string{"--repo", "../.."}, want: exitOK, wantStdout: "OK: 5 environment(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, append([]string{"check"}, tt.args...)...)
			if code != tt.want {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.want, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantStdout, stdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, stderr)
			}
		})
	}
}

func TestCheckMachineFormats(t *testing.T) {
	for _, format := range []string{policy.FormatJSON, policy.FormatSARIF, policy.FormatJUnit} {
		t.Run(format, func(t *testing.T) {
			stdout, _, code := runCLI(t, "check", "--repo", "testdata/checkrepo", "--env", "bad", "-o", format)
			if code != exitFinding {
				t.Errorf("exit code = %d, want %d", code, exitFinding)
			}
			for _, want := range []string{"no-secret-env", "image-tag", "environments/bad/worker.yaml"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("%s output does not mention %q", format, want)
				}
			}
			if strings.Contains(stdout, "hunter2") {
				t.Error("the report contains a secret value")
			}
		})
	}
}

// expectedFinding is one line of a policy case's expect.yaml.
type expectedFinding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Object   string `json:"object"`
}

// TestPolicyCases runs the check over each negative fixture under testdata/policy-cases: each
// reproduces a real mistake and must yield exactly the findings its expect.yaml lists.
func TestPolicyCases(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "policy-cases")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		cases++
		t.Run(e.Name(), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, e.Name(), "expect.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var want []expectedFinding
			if err := yaml.UnmarshalStrict(data, &want); err != nil {
				t.Fatalf("expect.yaml: %v", err)
			}
			report, err := check(context.Background(), &cli{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, logger: discardLogger()},
				checkConfig{repo: root, envs: []string{"./" + e.Name()}, format: policy.FormatText, unknownKinds: "deny", policiesDir: filepath.Join("..", "..", "policies")})
			if err != nil {
				t.Fatal(err)
			}
			for _, env := range report.Environments {
				if env.Error != "" {
					t.Fatalf("environment error: %s", env.Error)
				}
			}
			var got []expectedFinding
			for _, f := range report.Findings {
				ref := f.Object.Kind + "/" + f.Object.Name
				if f.Object.Namespace != "" {
					ref = f.Object.Kind + "/" + f.Object.Namespace + "/" + f.Object.Name
				}
				got = append(got, expectedFinding{Rule: f.Rule, Severity: string(f.Severity), Object: ref})
			}
			key := func(f expectedFinding) string { return fmt.Sprint(f) }
			slices.SortFunc(want, func(a, b expectedFinding) int { return strings.Compare(key(a), key(b)) })
			slices.SortFunc(got, func(a, b expectedFinding) int { return strings.Compare(key(a), key(b)) })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
	if cases < 10 {
		t.Errorf("only %d policy cases: the fixtures are missing", cases)
	}
}
