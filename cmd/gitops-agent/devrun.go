package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitops-agent/gitops-agent/config"
	"github.com/gitops-agent/gitops-agent/localcluster"
	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/gitserver"
)

// devRunConfig is what `gitops-agent dev run` was asked to do.
type devRunConfig struct {
	repo    string // the checkout whose manifests/, environments/ and policies/ are deployed
	dir     string // where everything lives; default a temporary directory
	listen  string
	cluster localcluster.Options
}

// runDevRun is `make run`: a local cluster, this repository's deployments served over git smart
// HTTP, and the agent following them, until Ctrl-C.
func runDevRun(ctx context.Context, c *cli, args []string) int {
	cfg := devRunConfig{cluster: localcluster.Options{Logger: c.logger}}
	fs := flag.NewFlagSet("dev run", flag.ContinueOnError)
	fs.StringVar(&cfg.repo, "repo", ".", "checkout whose manifests/, environments/ and policies/ are deployed")
	fs.StringVar(&cfg.dir, "dir", "", "directory for the cluster, the git server and the agent's cache (default: a temporary directory removed on exit)")
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "the agent's address (webhooks, /status, /metrics)")
	fs.StringVar(&cfg.cluster.BinDir, "bin-dir", os.Getenv(localcluster.BinDirEnv), "directory of the local control plane's binaries (default $"+localcluster.BinDirEnv+")")
	if ok, code := parseFlags(fs, c, args); !ok {
		return code
	}
	if err := devRun(ctx, c, cfg); err != nil {
		fmt.Fprintf(c.stderr, "dev run: %v\n", err)
		return exitError
	}
	return exitOK
}

func devRun(ctx context.Context, c *cli, cfg devRunConfig) error {
	repoRoot, err := filepath.Abs(cfg.repo)
	if err != nil {
		return err
	}
	envs, err := render.New(render.DefaultOptions()).EnvironmentsDir(ctx, repoRoot)
	if err != nil {
		return fmt.Errorf("%s has no environments to deploy: %w", repoRoot, err)
	}
	dir := cfg.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "gitops-agent-dev-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}

	// The listen address is checked first: finding it taken after a cluster start wastes time.
	agentListener, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("the agent's address %s is taken (another `make run`?): choose another with --listen: %w", cfg.listen, err)
	}
	agentListener.Close()

	fmt.Fprintf(c.stdout, "starting a local cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok) ...\n")
	cfg.cluster.Dir = filepath.Join(dir, "cluster")
	cluster, err := localcluster.Start(ctx, cfg.cluster)
	if err != nil {
		return err
	}
	defer cluster.Stop()

	git, err := serveDeployments(ctx, dir, repoRoot)
	if err != nil {
		return err
	}
	defer git.close()

	const secret = "local-dev-secret"
	secretFile := filepath.Join(dir, "webhook-secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		return err
	}
	agentConfig := devAgentConfig(git.url, filepath.Join(dir, "agent-cache"), secretFile, envs)
	configPath := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(configPath, []byte(agentConfig), 0o600); err != nil {
		return err
	}
	parsed, err := config.Parse([]byte(agentConfig))
	if err != nil {
		return fmt.Errorf("the generated configuration is invalid (a bug): %w", err)
	}
	parsed.Listen = cfg.listen
	parsed.Policies.Dir = filepath.Join(repoRoot, "policies")

	fmt.Fprintf(c.stdout, `
local cluster ready in %s; the agent follows %s (%d environments).

  kubeconfig   export KUBECONFIG=%s
  status       curl -s http://%s/status      (or: kubectl get environments -n gitops-agent)
  metrics      curl -s http://%s/metrics | grep gitops_agent_
  config       %s
  policies     %s (edit a rule: the agent reloads it)

Change something and watch it land:
  edit %s/environments/dev/...   # saving is enough: the edit is committed, pushed and announced
or push by hand from the served repository's clone:
  cd %s && git commit -qam "my change" && git push -q
  curl -s -X POST -H 'X-Signature-256: sha256='$(printf '{}' | openssl dgst -sha256 -hmac local-dev-secret -r | cut -d' ' -f1) \
       -d '{}' http://%s/hooks/generic   # or wait for the 10 s poll

Ctrl-C stops the agent, the git server and the cluster.

`, cluster.StartupDuration().Round(time.Millisecond), git.url, len(envs), cluster.KubeconfigPath(),
		cfg.listen, cfg.listen, configPath, parsed.Policies.Dir, repoRoot, git.work, cfg.listen)

	mirror := &checkoutMirror{checkout: repoRoot, repo: git.repo, hookURL: "http://" + cfg.listen + "/hooks/generic", secret: []byte(secret), log: c.logger}
	go mirror.run(ctx)

	rc := runConfig{kube: kubeFlags{kubeconfig: cluster.KubeconfigPath()}, workers: 8, resync: 10 * time.Minute, qps: 200, burst: 400}
	return runAgent(ctx, c.logger, parsed, rc)
}

func devAgentConfig(url, cacheDir, secretFile string, envPaths []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "repo:\n  url: %s\n  branch: main\n  pollInterval: 10s\n  cacheDir: %s\n", url, cacheDir)
	fmt.Fprintf(&b, "webhooks:\n  generic: {secretFile: %s}\n  github: {secretFile: %s}\n", secretFile, secretFile)
	b.WriteString("leaderElection: {enabled: false}\nenvironments:\n")
	for _, p := range envPaths {
		fmt.Fprintf(&b, "  - name: %s\n    path: %s\n    healthTimeout: 2m\n", filepath.Base(p), p)
	}
	return b.String()
}

// devGit is this repository's deployments in a bare repository served over smart HTTP.
type devGit struct {
	url, work string
	repo      *gitserver.Repo
	server    *http.Server
}

func (g *devGit) close() { _ = g.server.Close() }

func serveDeployments(ctx context.Context, dir, repoRoot string) (*devGit, error) {
	stage := filepath.Join(dir, "stage")
	for _, sub := range []string{"manifests", "environments", "policies"} {
		if err := os.CopyFS(filepath.Join(stage, sub), os.DirFS(filepath.Join(repoRoot, sub))); err != nil {
			return nil, fmt.Errorf("copy %s: %w", sub, err)
		}
	}
	root := filepath.Join(dir, "git")
	repo, err := gitserver.NewRepo(ctx, root, "deployments.git", filepath.Join(dir, "work"), stage)
	if err != nil {
		return nil, err
	}
	handler, err := gitserver.New(ctx, root, gitserver.Options{})
	if err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g := &devGit{url: "http://" + listener.Addr().String() + "/deployments.git", work: repo.Work, repo: repo}
	g.server = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go g.server.Serve(listener)
	// Pushes from the work clone go through the same smart-HTTP server the agent fetches from.
	if err := repo.SetOrigin(ctx, g.url); err != nil {
		g.close()
		return nil, err
	}
	if _, err := repo.Git(ctx, "push", "-q", "--set-upstream", "origin", repo.Branch); err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}
