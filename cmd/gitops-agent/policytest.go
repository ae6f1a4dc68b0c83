package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/gitops-agent/gitops-agent/policy"
)

func runPolicy(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintf(c.stderr, "usage: gitops-agent policy test [DIR]\n")
		return exitError
	}
	return runPolicyTest(ctx, c, args[1:])
}

// runPolicyTest runs the Rego unit tests of a policy directory, as policy authors do before
// pushing a change: `gitops-agent policy test policies/`.
func runPolicyTest(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("policy test", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: gitops-agent policy test [DIR]\n\nRuns the Rego tests (test_ rules) of the policies in DIR (default: policies). Exit status: 0 all pass, 1 a test fails, 2 the policies do not compile.\n\n")
		fs.PrintDefaults()
	}
	if ok, code := parseFlags(fs, c, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(c.stderr, "policy test: one directory at most, got %q\n", fs.Args())
		return exitError
	}
	dir := "policies"
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	report, err := policy.RunPolicyTests(ctx, dir)
	if err != nil {
		fmt.Fprintf(c.stderr, "policy test: %v\n", err)
		return exitError
	}
	if _, err := report.WriteTo(c.stdout); err != nil {
		fmt.Fprintf(c.stderr, "policy test: %v\n", err)
		return exitError
	}
	if !report.OK() {
		return exitFinding
	}
	return exitOK
}
