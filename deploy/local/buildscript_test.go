package local_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runScript(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("./build-cluster.sh", args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestPrintDirIsKeyedByVersion(t *testing.T) {
	cache := t.TempDir()
	out, err := runScript(t, []string{"GITOPS_AGENT_CACHE=" + cache}, "--print-dir")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	versions, err := os.ReadFile("versions.env")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(out)
	for _, line := range strings.Split(string(versions), "\n") {
		if v, ok := strings.CutPrefix(line, "K8S_VERSION="); ok && !strings.Contains(got, "k8s-v"+v) {
			t.Errorf("bin dir %s does not name Kubernetes %s", got, v)
		}
	}
	if !strings.HasPrefix(got, cache) {
		t.Errorf("bin dir %s is not under GITOPS_AGENT_CACHE %s", got, cache)
	}
}

func TestBuildFailuresSayWhatToDo(t *testing.T) {
	goDir := t.TempDir()
	// A PATH with the tools the script uses but no go.
	for _, tool := range []string{"bash", "dirname", "cat", "sed", "cut", "mkdir", "env"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(goDir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{name: "no toolchain", env: []string{"PATH=" + goDir}, want: "no Go toolchain on PATH"},
		{name: "module proxy unreachable", env: []string{"GOPROXY=off", "GOMODCACHE=" + t.TempDir()}, want: "check that the Go module proxy is reachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			out, err := runScript(t, append(tt.env, "GITOPS_AGENT_CACHE="+cache))
			if err == nil {
				t.Fatalf("script succeeded, want failure:\n%s", out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output does not say %q:\n%s", tt.want, out)
			}
			stamps, _ := filepath.Glob(filepath.Join(cache, "*", "bin", ".*.built"))
			if len(stamps) > 0 {
				t.Errorf("a failed build left stamps %v: a half-built cache would pass for a built one", stamps)
			}
		})
	}
}
