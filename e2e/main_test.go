package e2e_test

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

var raceAgent = flag.Bool("e2e.race", false, "build the agent with the race detector; a test fails if its agent reports a data race")

var (
	// cluster is the package's local cluster; nil with -short.
	cluster *localcluster.Cluster
	// agentBin is the gitops-agent binary built for this run.
	agentBin string
)

// TestMain builds the agent once and starts one local cluster for the package, unless -short
// asks for the unit tests only.
func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gitops-agent-e2e-")
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

// buildAgent builds ./cmd/gitops-agent from the module root (the parent of this package).
func buildAgent(out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	began := time.Now()
	args := []string{"build", "-o", out}
	if *raceAgent {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/gitops-agent")...)
	cmd.Dir = ".."
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
