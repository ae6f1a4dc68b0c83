package installtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/gitops-agent/gitops-agent/config"
	"github.com/gitops-agent/gitops-agent/sync/gitserver"
)

// asServiceAccount returns the cluster's admin configuration impersonating the agent's
// ServiceAccount: every request is authorised as the installed agent's would be.
func asServiceAccount() *rest.Config {
	cfg := cluster.RESTConfig()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: serviceAccount}
	return cfg
}

// serviceAccountKubeconfig writes a kubeconfig that impersonates the agent's ServiceAccount on
// top of the local cluster's admin credentials (kubectl's --as), for the agent binary.
func serviceAccountKubeconfig(tb testing.TB) string {
	tb.Helper()
	kc, err := clientcmd.LoadFromFile(cluster.KubeconfigPath())
	if err != nil {
		tb.Fatal(err)
	}
	for _, user := range kc.AuthInfos {
		user.Impersonate = serviceAccount
	}
	path := filepath.Join(tb.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		tb.Fatal(err)
	}
	return path
}

// serveDeployments serves this repository's manifests/, environments/ and policies/ as the
// first commit of a repository over git smart HTTP, as `gitops-agent dev run` does. It returns
// the repository, whose working clone pushes, and its URL.
func serveDeployments(tb testing.TB) (*gitserver.Repo, string) {
	tb.Helper()
	ctx := tb.Context()
	stage := tb.TempDir()
	for _, sub := range []string{"manifests", "environments", "policies"} {
		if err := os.CopyFS(filepath.Join(stage, sub), os.DirFS(filepath.Join(repoRoot, sub))); err != nil {
			tb.Fatalf("copy %s: %v", sub, err)
		}
	}
	root := tb.TempDir()
	repo, err := gitserver.NewRepo(ctx, root, "deployments.git", tb.TempDir(), stage)
	if err != nil {
		tb.Fatal(err)
	}
	handler, err := gitserver.New(ctx, root, gitserver.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	server := httptest.NewServer(handler)
	tb.Cleanup(server.Close)
	return repo, server.URL + "/deployments.git"
}

// head returns the commit the repository's branch points at.
func head(tb testing.TB, repo *gitserver.Repo) string {
	tb.Helper()
	out, err := repo.Git(tb.Context(), "rev-parse", "HEAD")
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// push commits files (repository path → content, "" to remove the file) and pushes.
func push(tb testing.TB, repo *gitserver.Repo, message string, files map[string]string) string {
	tb.Helper()
	write := map[string]string{}
	for name, content := range files {
		if content != "" {
			write[name] = content
			continue
		}
		if err := os.Remove(filepath.Join(repo.Work, filepath.FromSlash(name))); err != nil {
			tb.Fatal(err)
		}
	}
	commit, err := repo.Commit(tb.Context(), message, write)
	if err != nil {
		tb.Fatal(err)
	}
	if err := repo.Push(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return commit
}

// agent is a running `gitops-agent run`.
type agent struct {
	cmd     *exec.Cmd
	addr    string
	logPath string
	exited  chan struct{}
	err     error
}

// startAgent runs the agent binary on cfg with kubeconfig, as replica podName, and waits until
// it serves /healthz. It is stopped when the test ends, and its log shown if the test failed.
func startAgent(tb testing.TB, cfg *config.Config, kubeconfig, podName string) *agent {
	tb.Helper()
	dir := tb.TempDir()
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	configPath := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(configPath, raw, 0o600); err != nil {
		tb.Fatal(err)
	}
	a := &agent{addr: cfg.Listen, logPath: filepath.Join(dir, "agent.log"), exited: make(chan struct{})}
	logFile, err := os.Create(a.logPath)
	if err != nil {
		tb.Fatal(err)
	}
	a.cmd = exec.Command(agentBin, "run", "--config", configPath, "--kubeconfig", kubeconfig)
	a.cmd.Stdout, a.cmd.Stderr = logFile, logFile
	a.cmd.Env = append(os.Environ(), "POD_NAME="+podName)
	if err := a.cmd.Start(); err != nil {
		tb.Fatalf("start the agent: %v", err)
	}
	go func() {
		a.err = a.cmd.Wait()
		logFile.Close()
		close(a.exited)
	}()
	tb.Cleanup(func() {
		a.stop(tb)
		if tb.Failed() {
			tb.Logf("log of the agent (%s):\n%s", a.logPath, a.logTail(60))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-a.exited:
			tb.Fatalf("the agent exited before serving: %v", a.err)
		default:
		}
		if resp, err := http.Get("http://" + a.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("the agent does not answer /healthz on %s within 60s", a.addr)
	return nil
}

// stop sends SIGTERM, so that the agent releases its lease, and kills it after 15s.
func (a *agent) stop(tb testing.TB) {
	select {
	case <-a.exited:
		return
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
	case <-time.After(15 * time.Second):
		tb.Errorf("the agent did not stop within 15s of SIGTERM; killed")
		_ = a.cmd.Process.Kill()
		<-a.exited
	}
}

// logLines returns the lines of the agent's log that contain substr.
func (a *agent) logLines(tb testing.TB, substr string) []string {
	tb.Helper()
	raw, err := os.ReadFile(a.logPath)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for line := range strings.SplitSeq(string(raw), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

func (a *agent) logTail(n int) string {
	raw, err := os.ReadFile(a.logPath)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// localConfig is the shipped configuration with what differs outside a pod replaced: the
// repository, the cache directory and the webhook secret files, and the listen address.
func localConfig(tb testing.TB, shipped *config.Config, repoURL string) *config.Config {
	tb.Helper()
	cfg := *shipped
	dir := tb.TempDir()
	cfg.Repo.URL, cfg.Repo.CacheDir, cfg.Listen = repoURL, filepath.Join(dir, "cache"), freeAddr(tb)
	secrets := map[string]*config.WebhookSecret{
		"github": &cfg.Webhooks.GitHub, "gitlab": &cfg.Webhooks.GitLab, "gitea": &cfg.Webhooks.Gitea, "generic": &cfg.Webhooks.Generic,
	}
	for provider, s := range secrets {
		if s.SecretFile == "" {
			continue
		}
		s.SecretFile = filepath.Join(dir, provider)
		if err := os.WriteFile(s.SecretFile, []byte("installtest-"+provider+"\n"), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	if cfg.Repo.Auth != (config.RepoAuth{}) {
		tb.Fatalf("the shipped configuration sets repo.auth; this test serves a public repository: %+v", cfg.Repo.Auth)
	}
	return &cfg
}

// notifyPush sends the agent a GitHub push webhook signed with the secret of its configuration,
// so that it fetches at once instead of at its next poll.
func (a *agent) notifyPush(tb testing.TB, cfg *config.Config) {
	tb.Helper()
	secret, err := os.ReadFile(cfg.Webhooks.GitHub.SecretFile)
	if err != nil {
		tb.Fatal(err)
	}
	body := []byte(`{"ref":"refs/heads/main"}`)
	mac := hmac.New(sha256.New, bytes.TrimSpace(secret))
	mac.Write(body)
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, "http://"+a.addr+"/hooks/github", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		tb.Fatalf("webhook answered %s, want 202 Accepted", resp.Status)
	}
}

// fetches reports whether the agent fetches the repository within timeout, from its metric
// gitops_agent_git_fetch_duration_seconds: a leader fetches at once.
func (a *agent) fetches(tb testing.TB, timeout time.Duration) bool {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + a.addr + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for line := range strings.SplitSeq(string(body), "\n") {
				if strings.HasPrefix(line, "gitops_agent_git_fetch_duration_seconds_count") && !strings.HasSuffix(line, " 0") {
					return true
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}
