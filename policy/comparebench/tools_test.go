package comparebench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// tools are the validators BenchmarkCompare times ours against.
type tools struct {
	kubeconform string
	conftest    string
	// schemas is the directory of kubeconform's schemas of the built-in kinds.
	schemas string
}

const toolsHint = "run `make bench`, or install them with deploy/local/build-bench-tools.sh (it prints their bin directory) " +
	"and set KUBECONFORM=<bin>/kubeconform and CONFTEST=<bin>/conftest"

// toolsFromEnv reads the tools from KUBECONFORM, CONFTEST and KUBECONFORM_SCHEMAS (by default
// the kubeconform-schemas directory beside kubeconform's bin directory, where
// build-bench-tools.sh writes them). It skips when the tools are not configured, and fails
// when they are configured but unusable: a comparison that silently did not run is worse than
// none.
func toolsFromEnv(tb testing.TB) tools {
	tb.Helper()
	t := tools{
		kubeconform: os.Getenv("KUBECONFORM"),
		conftest:    os.Getenv("CONFTEST"),
		schemas:     os.Getenv("KUBECONFORM_SCHEMAS"),
	}
	if t.kubeconform == "" || t.conftest == "" {
		tb.Skip("KUBECONFORM and CONFTEST name no binaries: " + toolsHint)
	}
	if t.schemas == "" {
		t.schemas = filepath.Join(filepath.Dir(filepath.Dir(t.kubeconform)), "kubeconform-schemas")
	}
	for _, bin := range []struct{ env, path string }{{"KUBECONFORM", t.kubeconform}, {"CONFTEST", t.conftest}} {
		info, err := os.Stat(bin.path)
		if err != nil {
			tb.Fatalf("%s: %v; %s", bin.env, err, toolsHint)
		}
		if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
			tb.Fatalf("%s=%s is not an executable file; %s", bin.env, bin.path, toolsHint)
		}
	}
	if _, err := os.Stat(filepath.Join(t.schemas, "deployment-apps-v1.json")); err != nil {
		tb.Fatalf("kubeconform schemas of the built-in kinds: %v; set KUBECONFORM_SCHEMAS or re-run deploy/local/build-bench-tools.sh", err)
	}
	return t
}

// toolRun is the outcome of one run of an external tool.
type toolRun struct {
	stdout, stderr []byte
	exitCode       int
	elapsed        time.Duration
}

// runTool runs bin with args on as many CPUs as the benchmark itself uses. A non-zero exit is
// reported in the result, not as an error: both tools exit 1 when they find problems. The
// error says the tool could not run or was killed.
func runTool(ctx context.Context, bin string, args ...string) (toolRun, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", runtime.GOMAXPROCS(0)))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := toolRun{stdout: stdout.Bytes(), stderr: stderr.Bytes(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		r.exitCode = exit.ExitCode()
	default:
		return r, fmt.Errorf("run %s %s: %w; stderr: %s", filepath.Base(bin), strings.Join(args, " "), err, tail(r.stderr))
	}
	return r, nil
}

// tail is the end of a tool's output, enough to explain a failure.
func tail(out []byte) string {
	const limit = 2000
	s := strings.TrimSpace(string(out))
	if len(s) > limit {
		s = "..." + s[len(s)-limit:]
	}
	return s
}
