package comparebench

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
)

// kubeconformReport is kubeconform's JSON report (-output json -summary): the resources that
// are not valid, and how many resources ended how.
type kubeconformReport struct {
	Resources []kubeconformResource `json:"resources"`
	Summary   struct {
		Valid   int `json:"valid"`
		Invalid int `json:"invalid"`
		Errors  int `json:"errors"`
		Skipped int `json:"skipped"`
	} `json:"summary"`
}

type kubeconformResource struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Status  string `json:"status"`
	Msg     string `json:"msg"`
}

// total is how many resources kubeconform read.
func (r kubeconformReport) total() int {
	s := r.Summary
	return s.Valid + s.Invalid + s.Errors + s.Skipped
}

// schemaTemplate is where kubeconform looks for a kind's schema in dir: the file names that
// build-bench-tools.sh and writeCRDSchemas write (deployment-apps-v1.json).
func schemaTemplate(dir string) string {
	return filepath.Join(dir, "{{ .ResourceKind }}{{ .KindSuffix }}.json")
}

// kubeconform validates file strictly (no fields the schema does not declare) against the
// schemas in dirs, tried in order, with one worker per CPU the benchmark uses. An object
// whose schema is missing is an error in the report, not skipped.
func kubeconform(ctx context.Context, bin, file string, schemaDirs ...string) (kubeconformReport, toolRun, error) {
	args := []string{"-strict", "-summary", "-output", "json", "-n", strconv.Itoa(runtime.GOMAXPROCS(0))}
	for _, dir := range schemaDirs {
		args = append(args, "-schema-location", schemaTemplate(dir))
	}
	args = append(args, file)
	var report kubeconformReport
	run, err := runTool(ctx, bin, args...)
	if err != nil {
		return report, run, err
	}
	if err := json.Unmarshal(run.stdout, &report); err != nil {
		return report, run, fmt.Errorf("kubeconform (exit code %d) printed no JSON report: %w; stderr: %s", run.exitCode, err, tail(run.stderr))
	}
	// kubeconform exits 1 when a resource is invalid or could not be checked.
	if want := min(report.Summary.Invalid+report.Summary.Errors, 1); run.exitCode != want {
		return report, run, fmt.Errorf("kubeconform exited with code %d, want %d for its summary %+v; stderr: %s", run.exitCode, want, report.Summary, tail(run.stderr))
	}
	return report, run, nil
}
