package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

// runSync requests a sync of an environment in manual mode. It only annotates the
// environment's Environment object, so Kubernetes RBAC (patch on environments) decides who may,
// and the agent, not this command, applies.
func runSync(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	var kube kubeFlags
	kube.register(fs)
	namespace := fs.String("namespace", "gitops-agent", "the agent's namespace")
	wait := fs.Duration("wait", 0, "wait this long for the agent to act on the request (0: do not wait)")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: gitops-agent sync [flags] ENV\n\nAsks the agent to apply ENV's pending commit (environments in manual sync mode).\n\n")
		fs.PrintDefaults()
	}
	if ok, code := parseFlags(fs, c, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError
	}
	env := fs.Arg(0)
	store, err := statusStore(kube, *namespace)
	if err != nil {
		fmt.Fprintf(c.stderr, "sync: %v\n", err)
		return exitError
	}
	requested := time.Now()
	if err := store.RequestSync(ctx, env, requested); err != nil {
		fmt.Fprintf(c.stderr, "sync: %v\n", err)
		return exitError
	}
	fmt.Fprintf(c.stdout, "sync of %s requested\n", env)
	if *wait <= 0 {
		return exitOK
	}
	return waitForSync(ctx, c, store, env, requested, *wait)
}

// waitForSync polls the environment's status until the agent has handled the request.
func waitForSync(ctx context.Context, c *cli, store *reconcile.StatusStore, env string, requested time.Time, timeout time.Duration) int {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	want := requested.UTC().Format(time.RFC3339Nano)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		st, _, err := store.Load(ctx, env)
		if err == nil && st != nil && st.SyncRequestHandled == want && st.LastAttempt != nil {
			fmt.Fprintf(c.stdout, "%s: %s %s\n", env, st.LastAttempt.Result, st.LastAttempt.ShortCommit)
			if st.LastAttempt.Result != reconcile.ResultApplied {
				fmt.Fprintf(c.stdout, "  %s\n", st.LastAttempt.Message)
				return exitFinding
			}
			return exitOK
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(c.stderr, "sync: the agent has not acted on the request within %s (is it running and leading?)\n", timeout)
			return exitError
		case <-tick.C:
		}
	}
}

func statusStore(kube kubeFlags, namespace string) (*reconcile.StatusStore, error) {
	cfg, err := kube.restConfig()
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return reconcile.NewStatusStore(dyn, namespace), nil
}
