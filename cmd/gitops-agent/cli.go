package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
)

// Exit codes shared by every command, like kubectl diff's: 1 means "the answer is no" (findings,
// drift), 2 means the command could not do its job.
const (
	exitOK      = 0
	exitFinding = 1
	exitError   = 2
)

// cli is what every command gets: where to write and how to log.
type cli struct {
	stdout, stderr io.Writer
	logger         *slog.Logger
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) int
}

func commands() []command {
	return []command{
		{"check", "render and validate environments; explain every finding (for merge-request CI)", runCheck},
		{"policy", "policy tools: `policy test [DIR]` runs the Rego unit tests", runPolicy},
		{"run", "run the agent: follow the repository and keep environments on its newest valid commit", runRun},
		{"status", "show each environment's applied and pending commits, result, health and history", runStatus},
		{"sync", "ask the agent to apply an environment's pending commit (manual sync mode)", runSync},
		{"diff", "show how live objects differ from the applied commit (exit 1 on drift)", runDiff},
		{"promote", "promote a commit to a blue/green environment by pushing a tag; --confirm a waiting switch", runPromote},
		{"rollback", "switch a blue/green environment back to its previous colour", runRollback},
		{"version", "print the version", runVersion},
		{"dev", "developer tools: `dev cluster` runs a throw-away local Kubernetes cluster", runDev},
	}
}

// globalConfig holds the flags that come before the command.
type globalConfig struct {
	logFormat string
	logLevel  slog.Level
}

// parseGlobal parses the flags before the command name and returns the command's arguments.
func parseGlobal(args []string, stderr io.Writer) (globalConfig, []string, error) {
	cfg := globalConfig{}
	fs := flag.NewFlagSet("gitops-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.logFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error")
	fs.Usage = func() { usage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return cfg, nil, fmt.Errorf("--log-format %q: want text or json", cfg.logFormat)
	}
	return cfg, fs.Args(), nil
}

func newLogger(w io.Writer, cfg globalConfig) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: gitops-agent [global flags] <command> [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nglobal flags:\n")
	fs.PrintDefaults()
	fmt.Fprintf(w, "\n`gitops-agent <command> -h` describes a command's flags.\n")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, rest, err := parseGlobal(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "gitops-agent: %v\n", err)
		return exitError
	}
	if len(rest) == 0 || rest[0] == "help" {
		usage(stderr, flag.NewFlagSet("gitops-agent", flag.ContinueOnError))
		if len(rest) == 0 {
			return exitError
		}
		return exitOK
	}
	cmds := commands()
	i := slices.IndexFunc(cmds, func(c command) bool { return c.name == rest[0] })
	if i < 0 {
		names := make([]string, len(cmds))
		for j, c := range cmds {
			names[j] = c.name
		}
		fmt.Fprintf(stderr, "gitops-agent: unknown command %q (commands: %s)\n", rest[0], strings.Join(names, ", "))
		return exitError
	}
	c := &cli{stdout: stdout, stderr: stderr, logger: newLogger(stderr, cfg)}
	return cmds[i].run(ctx, c, rest[1:])
}

// parseFlags parses a command's flags; it reports whether the command should go on and, if
// not, the exit code.
func parseFlags(fs *flag.FlagSet, c *cli, args []string) (ok bool, code int) {
	fs.SetOutput(c.stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, exitOK
		}
		return false, exitError
	}
	return true, exitOK
}
