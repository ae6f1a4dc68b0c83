package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/render"
)

// checkConfig is what `gitops-agent check` was asked to do.
type checkConfig struct {
	repo             string
	envs             []string // empty: every environment
	format           string
	policiesDir      string // empty: <repo>/policies if it has policies, else the built-in set
	crdDirs          []string
	unknownKinds     string
	allowRemoteBases bool
	server           bool
	kube             kubeFlags
}

func parseCheckFlags(c *cli, args []string) (checkConfig, bool, int) {
	cfg := checkConfig{}
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: gitops-agent check [--env NAME]... [--all] [--repo DIR] [--server] [-o text|json|sarif|junit]\n\n"+
			"Renders environments, validates every object (schema and policies) and explains each finding.\n"+
			"Exit status: 0 clean (warnings allowed), 1 deny findings, 2 an environment or policy could not be checked.\n\n")
		fs.PrintDefaults()
	}
	all := fs.Bool("all", false, "check every environment (the default when no --env is given)")
	fs.Func("env", "environment to check (repeatable); a name under environments/ or a path", func(s string) error {
		cfg.envs = append(cfg.envs, s)
		return nil
	})
	fs.StringVar(&cfg.repo, "repo", ".", "root of the deployments repository")
	fs.StringVar(&cfg.format, "o", policy.FormatText, "output format: text, json, sarif or junit")
	fs.StringVar(&cfg.policiesDir, "policies", "", "directory of Rego policies (default: the repository's policies/ if present, else the built-in set)")
	fs.Func("crds", "directory of CRD manifests for custom resources whose CRDs are not in the render (repeatable)", func(s string) error {
		cfg.crdDirs = append(cfg.crdDirs, s)
		return nil
	})
	fs.StringVar(&cfg.unknownKinds, "unknown-kinds", string(policy.Deny), "severity of a kind with no schema: deny or warn")
	fs.BoolVar(&cfg.allowRemoteBases, "allow-remote-bases", false, "let kustomizations fetch remote bases")
	fs.BoolVar(&cfg.server, "server", false, "also validate with a server-side dry-run against the cluster of --kubeconfig/--context")
	cfg.kube.register(fs)
	if ok, code := parseFlags(fs, c, args); !ok {
		return cfg, false, code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "check: unexpected arguments %q (use --env NAME)\n", fs.Args())
		return cfg, false, exitError
	}
	if *all && len(cfg.envs) > 0 {
		fmt.Fprintf(c.stderr, "check: --all and --env exclude each other\n")
		return cfg, false, exitError
	}
	if !slices.Contains([]string{policy.FormatText, policy.FormatJSON, policy.FormatSARIF, policy.FormatJUnit}, cfg.format) {
		fmt.Fprintf(c.stderr, "check: -o %q: want text, json, sarif or junit\n", cfg.format)
		return cfg, false, exitError
	}
	if cfg.unknownKinds != string(policy.Deny) && cfg.unknownKinds != string(policy.Warn) {
		fmt.Fprintf(c.stderr, "check: --unknown-kinds %q: want deny or warn\n", cfg.unknownKinds)
		return cfg, false, exitError
	}
	return cfg, true, exitOK
}

func runCheck(ctx context.Context, c *cli, args []string) int {
	cfg, ok, code := parseCheckFlags(c, args)
	if !ok {
		return code
	}
	report, err := check(ctx, c, cfg)
	if err != nil {
		fmt.Fprintf(c.stderr, "check: %v\n", err)
		return exitError
	}
	if err := policy.WriteReport(c.stdout, report, cfg.format); err != nil {
		fmt.Fprintf(c.stderr, "check: write report: %v\n", err)
		return exitError
	}
	s := report.Summary()
	switch {
	case s.Errors > 0:
		return exitError
	case s.Deny > 0:
		return exitFinding
	default:
		return exitOK
	}
}

// check renders and validates the environments. An error means nothing could be checked (no
// repository, policies that do not compile); an environment that fails to render is recorded
// in the report and the others are still checked.
func check(ctx context.Context, c *cli, cfg checkConfig) (*policy.Report, error) {
	root, err := filepath.Abs(cfg.repo)
	if err != nil {
		return nil, err
	}
	if info, err := os.Stat(root); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("repository %s is not a directory", cfg.repo)
	}
	renderer := render.New(render.Options{AllowRemoteBases: cfg.allowRemoteBases})
	envPaths, err := environmentPaths(ctx, renderer, root, cfg.envs)
	if err != nil {
		return nil, err
	}
	validator, err := newCheckValidator(ctx, c, root, cfg)
	if err != nil {
		return nil, err
	}
	var dryRun *dryRunner
	if cfg.server {
		if dryRun, err = newDryRunner(cfg.kube); err != nil {
			return nil, err
		}
	}

	report := &policy.Report{}
	for _, envPath := range envPaths {
		name := environmentName(envPath)
		result := policy.EnvironmentResult{Name: name, Path: envPath}
		rendered, err := renderer.RenderDir(ctx, root, envPath)
		if err != nil {
			result.Error = err.Error()
			report.Environments = append(report.Environments, result)
			continue
		}
		result.Objects = len(rendered.Objects)
		findings, err := validator.Validate(ctx, name, rendered.Objects)
		if err == nil && dryRun != nil {
			var serverFindings []policy.Finding
			serverFindings, err = dryRun.run(ctx, name, rendered.Objects)
			findings = append(findings, serverFindings...)
		}
		if err != nil {
			result.Error = err.Error()
		}
		report.Findings = append(report.Findings, findings...)
		report.Environments = append(report.Environments, result)
	}
	report.Sort()
	return report, nil
}

// environmentPaths resolves --env values (a name under environments/ or a path) or lists every
// environment of the repository.
func environmentPaths(ctx context.Context, r *render.Renderer, root string, envs []string) ([]string, error) {
	if len(envs) == 0 {
		all, err := r.EnvironmentsDir(ctx, root)
		if err != nil {
			return nil, fmt.Errorf("list environments: %w", err)
		}
		if len(all) == 0 {
			return nil, fmt.Errorf("no environments in %s: expected environments/<name>/kustomization.yaml", root)
		}
		return all, nil
	}
	paths := make([]string, 0, len(envs))
	for _, e := range envs {
		if !strings.Contains(e, "/") {
			e = "environments/" + e
		}
		paths = append(paths, filepath.ToSlash(filepath.Clean(e)))
	}
	return paths, nil
}

func environmentName(envPath string) string { return filepath.Base(filepath.FromSlash(envPath)) }

func newCheckValidator(ctx context.Context, c *cli, root string, cfg checkConfig) (*policy.Validator, error) {
	schema, err := policy.NewSchemaValidator(ctx, policy.SchemaOptions{
		UnknownKind: policy.Severity(cfg.unknownKinds),
		CRDDirs:     cfg.crdDirs,
	})
	if err != nil {
		return nil, err
	}
	rego, err := loadCheckPolicies(ctx, c, root, cfg.policiesDir)
	if err != nil {
		return nil, err
	}
	return policy.NewValidator(schema, func() *policy.RegoSet { return rego }), nil
}

// loadCheckPolicies compiles the policies that apply to the repository: those it carries in
// policies/, so a merge request that changes a policy is checked by the changed policy.
func loadCheckPolicies(ctx context.Context, c *cli, root, dir string) (*policy.RegoSet, error) {
	opts := policy.DefaultRegoOptions()
	if dir == "" {
		candidate := filepath.Join(root, "policies")
		if hasRego(candidate) {
			dir = candidate
		}
	}
	if dir == "" {
		c.logger.Debug("no policies/ in the repository: using the built-in policies")
		return policy.LoadDefaultRego(ctx, opts)
	}
	set, err := policy.LoadRegoDir(ctx, dir, opts)
	if err != nil {
		var compileErr *policy.RegoCompileError
		if errors.As(err, &compileErr) {
			return nil, fmt.Errorf("policies do not compile:\n%w", err)
		}
		return nil, err
	}
	return set, nil
}

func hasRego(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".rego") && !strings.HasSuffix(path, "_test.rego") {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}
