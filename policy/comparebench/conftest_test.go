package comparebench

import (
	"context"
	"encoding/json"
	"fmt"
)

// conftestResult is conftest's JSON report of one file (-output json).
type conftestResult struct {
	Filename   string            `json:"filename"`
	Namespace  string            `json:"namespace"`
	Successes  int               `json:"successes"`
	Failures   []conftestFinding `json:"failures"`
	Warnings   []conftestFinding `json:"warnings"`
	Exceptions []conftestFinding `json:"exceptions"`
}

// conftestFinding is one result of a deny or warn rule; the fields of a result object other
// than msg (our rules' rule and field) are in Metadata.
type conftestFinding struct {
	Msg      string         `json:"msg"`
	Metadata map[string]any `json:"metadata"`
}

// conftest runs the policies of policyDir (package main, as conftest does by default) on file.
// --no-fail makes it exit 0 when policies fail, so any other exit code is an error.
func conftest(ctx context.Context, bin, policyDir, file string) ([]conftestResult, toolRun, error) {
	var results []conftestResult
	run, err := runTool(ctx, bin, "test", "--no-fail", "--no-color", "--output", "json", "--policy", policyDir, file)
	if err != nil {
		return nil, run, err
	}
	if run.exitCode != 0 {
		return nil, run, fmt.Errorf("conftest exited with code %d; stderr: %s", run.exitCode, tail(run.stderr))
	}
	if err := json.Unmarshal(run.stdout, &results); err != nil {
		return nil, run, fmt.Errorf("conftest printed no JSON report: %w; stderr: %s", err, tail(run.stderr))
	}
	return results, run, nil
}

// conftestCounts counts conftest's findings by severity and rule id ("deny/image-tag").
func conftestCounts(results []conftestResult) map[string]int {
	counts := map[string]int{}
	for _, r := range results {
		for _, list := range []struct {
			severity string
			findings []conftestFinding
		}{{"deny", r.Failures}, {"warn", r.Warnings}} {
			for _, f := range list.findings {
				rule, _ := f.Metadata["rule"].(string)
				if rule == "" {
					rule = "(no rule id)"
				}
				counts[list.severity+"/"+rule]++
			}
		}
	}
	return counts
}
