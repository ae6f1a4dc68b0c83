package local_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runBenchTools(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("./build-bench-tools.sh", args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestBenchToolsPrintDirIsKeyedByVersions(t *testing.T) {
	cache := t.TempDir()
	out, err := runBenchTools(t, []string{"GITOPS_AGENT_CACHE=" + cache}, "--print-dir")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := strings.TrimSpace(out)
	for _, version := range []string{"kubeconform-v", "conftest-v", "k8s-v"} {
		if !strings.Contains(got, version) {
			t.Errorf("bin dir %s does not name the %s version", got, strings.TrimSuffix(version, "-v"))
		}
	}
	if !strings.HasPrefix(got, cache) || filepath.Base(got) != "bin" {
		t.Errorf("bin dir %s is not a bin directory under GITOPS_AGENT_CACHE %s", got, cache)
	}
}

func TestBenchToolsFailuresSayWhatToDo(t *testing.T) {
	noGo := t.TempDir()
	// A PATH with the tools the script uses but no go.
	for _, tool := range []string{"bash", "dirname", "cat", "sed", "cut", "mkdir", "env"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(noGo, tool)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{name: "no toolchain", env: []string{"PATH=" + noGo}, want: "no Go toolchain on PATH"},
		{name: "module proxy unreachable", env: []string{"GOPROXY=off", "GOMODCACHE=" + t.TempDir()}, want: "check that the Go module proxy is reachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			out, err := runBenchTools(t, append(tt.env, "GITOPS_AGENT_CACHE="+cache))
			if err == nil {
				t.Fatalf("script succeeded, want failure:\n%s", out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output does not say %q:\n%s", tt.want, out)
			}
			stamps, _ := filepath.Glob(filepath.Join(cache, "*", "*", ".*.built"))
			more, _ := filepath.Glob(filepath.Join(cache, "*", ".*.built"))
			if stamps = append(stamps, more...); len(stamps) > 0 {
				t.Errorf("a failed build left stamps %v: a half-built cache would pass for a built one", stamps)
			}
		})
	}
}
