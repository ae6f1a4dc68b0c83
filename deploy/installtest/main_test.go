package installtest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gitops-agent/gitops-agent/localcluster"
	"github.com/gitops-agent/gitops-agent/localcluster/clustertest"
)

var (
	// cluster is the package's local cluster; nil with -short.
	cluster *localcluster.Cluster
	// agentBin is the gitops-agent binary built for this run; empty with -short.
	agentBin string
)

// repoRoot is the module root, two levels above this package.
const repoRoot = "../.."

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gitops-agent-installtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	agentBin = filepath.Join(dir, "gitops-agent")
	if err := buildAgent(agentBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return clustertest.Main(m, func(c *localcluster.Cluster) { cluster = c })
}

// buildAgent builds ./cmd/gitops-agent as the image does: static, without cgo.
func buildAgent(out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	began := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./cmd/gitops-agent")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the agent: go build ./cmd/gitops-agent: %w\n%s", err, b)
	}
	fmt.Fprintf(os.Stderr, "built %s in %s\n", out, time.Since(began).Round(time.Millisecond))
	return nil
}

// needCluster skips a test that runs without the local cluster (-short).
func needCluster(tb testing.TB) {
	tb.Helper()
	if cluster == nil {
		tb.Skip("needs the local cluster and the agent binary (not started with -short)")
	}
}
