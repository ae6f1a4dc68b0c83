package main

import (
	"strings"
	"testing"
)

// TestCheckServerDryRun: with --server the check also asks a real API server, which catches
// what no offline schema knows (here a negative quota), while objects of a Namespace that the
// render itself creates are not reported as missing their namespace.
func TestCheckServerDryRun(t *testing.T) {
	if cluster == nil {
		t.Skip("needs the local cluster (not started with -short)")
	}
	offline, _, code := runCLI(t, "check", "--repo", "testdata/dryrunrepo")
	if code != exitOK {
		t.Fatalf("offline check: exit %d, want 0 (the quota is well formed offline):\n%s", code, offline)
	}
	stdout, stderr, code := runCLI(t, "check", "--repo", "testdata/dryrunrepo", "--server", "--kubeconfig", cluster.KubeconfigPath())
	if code != exitFinding {
		t.Fatalf("check --server: exit %d, want %d\nstdout: %s\nstderr: %s", code, exitFinding, stdout, stderr)
	}
	for _, want := range []string{"server-dry-run", "ResourceQuota/default/compute", "environments/app/quota.yaml", "requests.cpu"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output does not mention %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "ConfigMap/dryrun-app/settings") || strings.Contains(stdout, "not found") {
		t.Errorf("the render's own namespace is reported:\n%s", stdout)
	}
}

func TestCheckServerUnreachable(t *testing.T) {
	_, stderr, code := runCLI(t, "check", "--repo", "testdata/dryrunrepo", "--server", "--kubeconfig", "testdata/nope.kubeconfig")
	if code != exitError || !strings.Contains(stderr, "nope.kubeconfig") {
		t.Errorf("exit %d, stderr %q: want exit 2 naming the kubeconfig", code, stderr)
	}
}
