package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gitops-agent/gitops-agent/promote"
	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

// runStatus prints what each environment runs, from the Environment objects in the cluster.
func runStatus(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	var kube kubeFlags
	kube.register(fs)
	namespace := fs.String("namespace", "gitops-agent", "the agent's namespace")
	output := fs.String("o", "table", "output format: table or json")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: gitops-agent status [flags] [ENV]\n\nShows each environment's applied and pending commits, last result, health and history.\n\n")
		fs.PrintDefaults()
	}
	if ok, code := parseFlags(fs, c, args); !ok {
		return code
	}
	if *output != "table" && *output != "json" {
		fmt.Fprintf(c.stderr, "status: -o %q: want table or json\n", *output)
		return exitError
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return exitError
	}
	store, err := statusStore(kube, *namespace)
	if err != nil {
		fmt.Fprintf(c.stderr, "status: %v\n", err)
		return exitError
	}
	all, err := store.List(ctx)
	if err != nil {
		fmt.Fprintf(c.stderr, "status: %v\n", err)
		return exitError
	}
	if fs.NArg() == 1 {
		var one []reconcile.Status
		for _, s := range all {
			if s.Name == fs.Arg(0) {
				one = append(one, s)
			}
		}
		if len(one) == 0 {
			fmt.Fprintf(c.stderr, "status: no environment %q in namespace %s\n", fs.Arg(0), *namespace)
			return exitError
		}
		all = one
	}
	if *output == "json" {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			return exitError
		}
		return exitOK
	}
	writeStatusTable(c.stdout, all, fs.NArg() == 1, time.Now())
	return exitOK
}

func writeStatusTable(w io.Writer, all []reconcile.Status, details bool, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENV\tAPPLIED\tAGE\tRESULT\tHEALTH\tPENDING\tOBJECTS\tDRIFTED\tLIVE")
	for _, s := range all {
		applied, age, result, pending := "-", "-", "-", "-"
		if s.LastApplied != nil {
			applied, age = s.LastApplied.ShortCommit, since(now, s.LastApplied.Time.Time)
		}
		if s.LastAttempt != nil {
			result = string(s.LastAttempt.Result)
		}
		if s.Pending != nil {
			pending = s.Pending.ShortCommit
		}
		drifted, live := 0, "-"
		if s.Drift != nil {
			drifted = s.Drift.Objects
		}
		if p := s.Promotion; p != nil {
			live = string(p.Phase)
			if p.Live != nil {
				live = string(p.Live.Color) + " " + shortCommitOf(p.Live.Commit)
			}
			if p.Current != nil {
				live += " (" + string(p.Phase) + " " + shortCommitOf(p.Current.Commit) + ")"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.Name, applied, age, result, orDash(s.Health), pending, s.ManagedObjects, drifted, live)
	}
	tw.Flush()
	if !details {
		return
	}
	for _, s := range all {
		if s.HealthMessage != "" {
			fmt.Fprintf(w, "\nhealth: %s\n", s.HealthMessage)
		}
		if s.Pending != nil {
			fmt.Fprintf(w, "\npending %s: %s\n", s.Pending.ShortCommit, s.Pending.Reason)
		}
		if d := s.Drift; d != nil {
			fmt.Fprintf(w, "\ndrift: %d object(s) differ from the applied commit (gitops-agent diff --env %s shows how):\n", d.Objects, s.Name)
			for _, item := range d.Items {
				line := fmt.Sprintf("  %s %s", item.Object, item.Type)
				if len(item.Paths) > 0 {
					line += " at " + strings.Join(item.Paths, ", ")
				}
				if len(item.Managers) > 0 {
					line += " by " + strings.Join(item.Managers, ", ")
				}
				if item.Flapping {
					line += " (healing stopped: another writer keeps changing it)"
				}
				fmt.Fprintln(w, line)
			}
		}
		if p := s.Promotion; p != nil {
			writePromotion(w, p, now)
		}
		if s.LastAttempt != nil {
			for _, v := range s.LastAttempt.Violations {
				fmt.Fprintf(w, "  %s %s (%s): %s\n", v.Rule, v.Object, v.Source, v.Message)
			}
		}
		fmt.Fprintf(w, "\nhistory:\n")
		hw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(hw, "  COMMIT\tTRIGGER\tRESULT\tHEALTH\tFINISHED\tCHANGES")
		for _, h := range s.History {
			fmt.Fprintf(hw, "  %s\t%s\t%s\t%s\t%s ago\t%s\n", h.ShortCommit, h.Trigger, h.Result, orDash(h.Health), since(now, h.FinishedAt.Time), changes(h.Changes))
		}
		hw.Flush()
	}
}

// writePromotion shows a promoted environment's releases, the promotion in progress and the
// history of promotions.
func writePromotion(w io.Writer, p *promote.State, now time.Time) {
	fmt.Fprintf(w, "\npromotion: %s", p.Phase)
	if p.Message != "" {
		fmt.Fprintf(w, ": %s", p.Message)
	}
	fmt.Fprintln(w)
	release := func(what string, r *promote.Release) {
		if r != nil {
			fmt.Fprintf(w, "  %-9s %s %s %s\n", what, r.Color, shortCommitOf(r.Commit), r.Tag)
		}
	}
	release("live", p.Live)
	release("previous", p.Previous)
	if !p.RollbackUntil.IsZero() {
		fmt.Fprintf(w, "  rollback is instant for %s more (gitops-agent rollback %s)\n", p.RollbackUntil.Sub(now).Round(time.Second), p.Env)
	}
	if c := p.Current; c != nil {
		fmt.Fprintf(w, "  %-9s %s %s %s, %s, started %s ago\n", "current", c.Color, shortCommitOf(c.Commit), c.Tag, c.Kind, since(now, c.Started))
	}
	if len(p.History) == 0 {
		return
	}
	hw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(hw, "  COMMIT\tTAG\tCOLOR\tRESULT\tTOOK\tENDED\tREASON")
	for _, h := range p.History {
		fmt.Fprintf(hw, "  %s\t%s\t%s\t%s\t%s\t%s ago\t%s\n", shortCommitOf(h.Commit), orDash(h.Tag), h.Color, h.Result, h.End.Sub(h.Start).Round(time.Millisecond), since(now, h.End), orDash(h.Reason))
	}
	hw.Flush()
}

func changes(m map[string]int) string {
	var parts []string
	for _, action := range []string{"created", "configured", "recreated", "pruned", "unchanged", "skipped", "failed"} {
		if n := m[action]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, action))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func since(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return now.Sub(t).Round(time.Second).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
