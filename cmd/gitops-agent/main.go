// Command gitops-agent is a GitOps reconciler for Kubernetes: it follows a deployments repo,
// validates every rendered object, applies per-environment overlays, watches for drift and
// promotes commits blue/green. `gitops-agent help` lists its commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
