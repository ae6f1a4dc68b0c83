package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/gitops-agent/gitops-agent/promote"
	"github.com/gitops-agent/gitops-agent/sync/reconcile"
	"github.com/gitops-agent/gitops-agent/sync/source"
)

// runPromote requests a promotion the way CI or a person would by hand: it pushes a promotion
// tag, and the agent, which follows tags, does the rest. With --confirm it instead lets a
// promotion waiting for approval switch traffic.
func runPromote(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("promote", flag.ContinueOnError)
	var kube kubeFlags
	kube.register(fs)
	namespace := fs.String("namespace", "gitops-agent", "the agent's namespace (with --confirm and --wait)")
	confirm := fs.Bool("confirm", false, "let the promotion waiting for approval switch traffic (autoPromote: false)")
	wait := fs.Duration("wait", 0, "wait this long for the promotion to finish (0: do not wait)")
	var req source.TagRequest
	fs.StringVar(&req.Dir, "repo", ".", "a clone of the deployments repository; the tag is created there and pushed")
	fs.StringVar(&req.Remote, "remote", "origin", "the remote to push the tag to")
	fs.StringVar(&req.Name, "name", "", "the tag's name after \"<env>/\" (default: the UTC time, 2026-11-22T10-04-05Z)")
	fs.StringVar(&req.Message, "message", "", "the tag's message (default: \"promote <commit> to <env>\")")
	fs.BoolVar(&req.Moving, "moving", false, "move the tag named exactly <env> instead of creating <env>/<name>")
	fs.StringVar(&req.Auth.TokenFile, "token-file", "", "file holding an HTTPS access token for the remote")
	fs.StringVar(&req.Auth.Username, "username", "", "user sent with the token (default git)")
	fs.StringVar(&req.Auth.SSHKeyFile, "ssh-key", "", "private key for an ssh remote (needs --known-hosts)")
	fs.StringVar(&req.Auth.KnownHostsFile, "known-hosts", "", "known_hosts file pinning the ssh remote's host key")
	fs.StringVar(&req.CAFile, "ca-file", "", "PEM bundle to trust for an https remote")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: gitops-agent promote [flags] ENV REF\n       gitops-agent promote --confirm ENV\n\n"+
			"Promotes commit REF (a commit id, branch, tag or HEAD~N) to the blue/green environment ENV\n"+
			"by pushing the tag ENV/<name>; the agent deploys it beside the live colour, checks it, and\n"+
			"switches traffic. --confirm lets a promotion that waits for approval switch.\n\n")
		fs.PrintDefaults()
	}
	if ok, code := parseFlags(fs, c, args); !ok {
		return code
	}
	if *confirm {
		if fs.NArg() != 1 {
			fs.Usage()
			return exitError
		}
		return requestPromotionAction(ctx, c, kube, *namespace, fs.Arg(0), "promote", reconcile.ConfirmRequestAnnotation, *wait)
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return exitError
	}
	req.Env, req.Rev = fs.Arg(0), fs.Arg(1)
	var store *reconcile.StatusStore
	var before *promote.HistoryEntry
	if *wait > 0 {
		var err error
		if store, err = statusStore(kube, *namespace); err != nil {
			fmt.Fprintf(c.stderr, "promote: %v\n", err)
			return exitError
		}
		before = newestPromotion(ctx, store, req.Env)
	}
	tag, commit, err := source.PushTag(ctx, req)
	if err != nil {
		fmt.Fprintf(c.stderr, "promote: %v\n", err)
		return exitError
	}
	fmt.Fprintf(c.stdout, "tagged %s as %s and pushed it to %s: the agent promotes it to %s\n", shortCommitOf(commit), tag, req.Remote, req.Env)
	if *wait <= 0 {
		return exitOK
	}
	return waitForPromotion(ctx, c, store, req.Env, promotionDone(commit, before), *wait)
}

// runRollback asks the agent to switch an environment back to its previous colour.
func runRollback(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("rollback", flag.ContinueOnError)
	var kube kubeFlags
	kube.register(fs)
	namespace := fs.String("namespace", "gitops-agent", "the agent's namespace")
	wait := fs.Duration("wait", 0, "wait this long for the rollback to finish (0: do not wait)")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: gitops-agent rollback [flags] ENV\n\n"+
			"Switches the blue/green environment ENV back to the previously promoted commit: at once while\n"+
			"the previous colour still runs (the rollback window), otherwise by redeploying it through\n"+
			"the same health and smoke gates.\n\n")
		fs.PrintDefaults()
	}
	if ok, code := parseFlags(fs, c, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError
	}
	return requestPromotionAction(ctx, c, kube, *namespace, fs.Arg(0), "rollback", reconcile.RollbackRequestAnnotation, *wait)
}

// requestPromotionAction annotates the environment's Environment object, which the leading
// agent watches: Kubernetes RBAC on Environments decides who may confirm or roll back.
func requestPromotionAction(ctx context.Context, c *cli, kube kubeFlags, namespace, env, command, annotation string, wait time.Duration) int {
	store, err := statusStore(kube, namespace)
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %v\n", command, err)
		return exitError
	}
	before := newestPromotion(ctx, store, env)
	if err := store.RequestPromotionAction(ctx, env, annotation, time.Now()); err != nil {
		fmt.Fprintf(c.stderr, "%s: %v\n", command, err)
		return exitError
	}
	fmt.Fprintf(c.stdout, "%s of %s requested\n", command, env)
	if wait <= 0 {
		return exitOK
	}
	return waitForPromotion(ctx, c, store, env, promotionDone("", before), wait)
}

func shortCommitOf(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// promotionOutcome is what waiting for a promotion learned: whether it ended, how, and the
// exit code to report.
type promotionOutcome struct {
	done    bool
	message string
	code    int
}

// newestPromotion returns the newest entry of env's promotion history, nil if none: what a
// request is waited for ends above it. Comparing entries rather than times keeps the wait
// right whatever the clocks of this machine and the cluster say.
func newestPromotion(ctx context.Context, store *reconcile.StatusStore, env string) *promote.HistoryEntry {
	st, _, err := store.Load(ctx, env)
	if err != nil || st == nil || st.Promotion == nil || len(st.Promotion.History) == 0 {
		return nil
	}
	return &st.Promotion.History[0]
}

// promotionDone judges a promotion state: the end of the promotion of commit, or, with an
// empty commit, of whatever the request started (a confirmation, a rollback); before is the
// newest history entry when the request was made.
func promotionDone(commit string, before *promote.HistoryEntry) func(promote.State) promotionOutcome {
	return func(s promote.State) promotionOutcome {
		if cur := s.Current; cur != nil && s.Phase == promote.PhaseAwaitingApproval && (commit == "" || cur.Commit == commit) {
			if commit == "" {
				return promotionOutcome{} // a confirmation not taken up yet
			}
			return promotionOutcome{done: true, code: exitOK, message: fmt.Sprintf("%s is healthy beside the live colour and waits for approval: gitops-agent promote --confirm %s", shortCommitOf(cur.Commit), s.Env)}
		}
		for _, h := range s.History {
			if before != nil && h.Commit == before.Commit && h.Start.Equal(before.Start) && h.Result == before.Result {
				break // newest first: the rest was there before the request
			}
			if commit != "" && h.Commit != commit {
				continue
			}
			msg := fmt.Sprintf("%s %s as %s", shortCommitOf(h.Commit), h.Result, h.Color)
			if h.Reason != "" {
				msg += ": " + h.Reason
			}
			code := exitOK
			if h.Result == promote.ResultAborted || h.Result == promote.ResultSuperseded {
				code = exitFinding
			}
			return promotionOutcome{done: true, code: code, message: msg}
		}
		return promotionOutcome{}
	}
}

// waitForPromotion polls the environment's status until done says the promotion ended.
func waitForPromotion(ctx context.Context, c *cli, store *reconcile.StatusStore, env string, done func(promote.State) promotionOutcome, timeout time.Duration) int {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		st, _, err := store.Load(ctx, env)
		if err == nil && st != nil && st.Promotion != nil {
			if out := done(*st.Promotion); out.done {
				fmt.Fprintf(c.stdout, "%s: %s\n", env, out.message)
				return out.code
			}
			if phase := string(st.Promotion.Phase); phase != last {
				fmt.Fprintf(c.stdout, "%s: %s\n", env, phase)
				last = phase
			}
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(c.stderr, "%s: the promotion has not ended within %s (gitops-agent status %s shows where it is)\n", env, timeout, env)
			return exitError
		case <-tick.C:
		}
	}
}
