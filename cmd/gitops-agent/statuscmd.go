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
	fmt.Fprintln(tw, "ENV\tAPPLIED\tAGE\tRESULT\tHEALTH\tPENDING\tOBJECTS")
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", s.Name, applied, age, result, orDash(s.Health), pending, s.ManagedObjects)
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
