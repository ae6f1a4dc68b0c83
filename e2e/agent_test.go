package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gitops-agent/gitops-agent/config"
)

// webhookSecret is the GitHub webhook secret every test agent is configured with.
const webhookSecret = "e2e-webhook-secret"

// agentConfig returns a configuration that follows d with the given environments, keeps its
// status objects, inventories and lease in namespace, polls rarely (tests trigger fetches with
// webhooks) and serves GitHub webhooks signed with webhookSecret.
func agentConfig(tb testing.TB, d *deployments, namespace string, envs ...config.Environment) *config.Config {
	tb.Helper()
	secretFile := filepath.Join(tb.TempDir(), "github-secret")
	if err := os.WriteFile(secretFile, []byte(webhookSecret+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	off := false
	return &config.Config{
		Repo: config.Repo{
			URL: d.URL, Branch: "main",
			PollInterval: config.Duration{Duration: 10 * time.Minute},
			CacheDir:     filepath.Join(tb.TempDir(), "cache"),
		},
		Environments:   envs,
		Webhooks:       config.Webhooks{GitHub: config.WebhookSecret{SecretFile: secretFile}},
		Namespace:      namespace,
		LeaderElection: config.LeaderElection{Enabled: &off},
	}
}

// autoEnv is an environment in auto sync mode with a short health timeout, so that a test
// that breaks health does not wait the default five minutes.
func autoEnv(name string) config.Environment {
	return config.Environment{Name: name, HealthTimeout: config.Duration{Duration: 60 * time.Second}}
}

// agent is a running gitops-agent process.
type agent struct {
	tb   testing.TB
	name string
	cmd  *exec.Cmd
	// addr is the host:port of its HTTP server.
	addr string
	logs *logSink
	// exited is closed once the process is reaped; err is then its wait error.
	exited chan struct{}
	err    error
}

// startAgent writes cfg and runs `gitops-agent run` on it against the package's cluster with
// extra flags, and waits until its HTTP server answers. The process is stopped when the test
// ends; its log is printed if the test failed.
func startAgent(tb testing.TB, name string, cfg *config.Config, flags ...string) *agent {
	tb.Helper()
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	configPath := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(configPath, raw, 0o600); err != nil {
		tb.Fatal(err)
	}
	a := &agent{tb: tb, name: name, addr: freeAddr(tb), logs: newLogSink(filepath.Join(dir, "agent.log")), exited: make(chan struct{})}
	args := append([]string{"--log-level", "debug", "run",
		"--config", configPath, "--kubeconfig", cluster.KubeconfigPath(), "--listen", a.addr}, flags...)
	a.cmd = exec.Command(agentBin, args...)
	a.cmd.Stdout, a.cmd.Stderr = a.logs, a.logs
	// POD_NAME names the replica in the lease, so a test can tell its agents apart.
	a.cmd.Env = append(os.Environ(), "POD_NAME="+name)
	if err := a.cmd.Start(); err != nil {
		tb.Fatalf("start agent %s: %v", name, err)
	}
	go func() {
		a.err = a.cmd.Wait()
		a.logs.close()
		close(a.exited)
	}()
	tb.Cleanup(func() {
		if tb.Failed() && a.running() {
			// The Go runtime answers SIGQUIT with every goroutine's stack: where a stuck
			// agent is stuck.
			_ = a.cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case <-a.exited:
			case <-time.After(5 * time.Second):
			}
		}
		a.stop()
		if n := a.logs.count("WARNING: DATA RACE"); n > 0 {
			tb.Errorf("agent %s reported %d data races", name, n)
		}
		if tb.Failed() {
			tb.Logf("log of agent %s (whole log kept in %s):\n%s", name, a.logs.keep(), a.logs.tail(80))
		}
	})
	a.waitServing()
	return a
}

// waitServing waits until the agent answers /healthz.
func (a *agent) waitServing() {
	a.tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-a.exited:
			a.tb.Fatalf("agent %s exited before serving: %v\n%s", a.name, a.err, a.logs.tail(40))
		default:
		}
		if resp, err := http.Get("http://" + a.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.tb.Fatalf("agent %s does not answer /healthz on %s within 60s\n%s", a.name, a.addr, a.logs.tail(40))
}

// kill SIGKILLs the agent, as an OOM kill or a node failure would, and reaps it.
func (a *agent) kill() {
	a.tb.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		a.tb.Fatalf("kill agent %s: %v", a.name, err)
	}
	<-a.exited
}

// stop asks the agent to stop (SIGTERM) and kills it if it has not within 15s.
func (a *agent) stop() {
	select {
	case <-a.exited:
		return
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
	case <-time.After(15 * time.Second):
		a.tb.Errorf("agent %s did not stop within 15s of SIGTERM; killed", a.name)
		_ = a.cmd.Process.Kill()
		<-a.exited
	}
}

// running reports whether the process has not exited.
func (a *agent) running() bool {
	select {
	case <-a.exited:
		return false
	default:
		return true
	}
}

// peakRSS is the agent's peak resident memory (VmHWM), in bytes.
func (a *agent) peakRSS() (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", a.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM", a.cmd.Process.Pid)
}

// get GETs path on the agent's HTTP server and returns the body.
func (a *agent) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.addr+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

// waitLog waits until the agent's log has a line containing every one of parts, and returns it.
func (a *agent) waitLog(timeout time.Duration, parts ...string) string {
	a.tb.Helper()
	line, ok := a.logs.wait(timeout, parts...)
	if !ok {
		a.tb.Fatalf("agent %s logged no line with %q within %s\n%s", a.name, parts, timeout, a.logs.tail(40))
	}
	return line
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// logSink keeps an agent's output in a file and in memory, and lets tests wait for a line.
type logSink struct {
	path string
	mu   sync.Mutex
	file *os.File
	buf  []byte
	// grew is closed and replaced whenever a write arrives.
	grew chan struct{}
}

func newLogSink(path string) *logSink {
	f, _ := os.Create(path) // a missing file only loses the copy on disk
	return &logSink{path: path, file: f, grew: make(chan struct{})}
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if l.file != nil {
		_, _ = l.file.Write(p)
	}
	close(l.grew)
	l.grew = make(chan struct{})
	return len(p), nil
}

func (l *logSink) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		_ = l.file.Close()
		l.file = nil
	}
}

// lines returns the complete lines written so far.
func (l *logSink) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	text := string(l.buf)
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	} else {
		return nil
	}
	return strings.Split(text, "\n")
}

// count returns how many lines contain every one of parts.
func (l *logSink) count(parts ...string) int {
	n := 0
	for _, line := range l.lines() {
		if containsAll(line, parts) {
			n++
		}
	}
	return n
}

func (l *logSink) wait(timeout time.Duration, parts ...string) (string, bool) {
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		grew := l.grew
		l.mu.Unlock()
		for _, line := range l.lines() {
			if containsAll(line, parts) {
				return line, true
			}
		}
		select {
		case <-grew:
		case <-deadline:
			return "", false
		}
	}
}

// keep copies the log out of the test's temporary directory, which the test removes, and
// returns where.
func (l *logSink) keep() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.CreateTemp("", "gitops-agent-e2e-*.log")
	if err != nil {
		return "(not kept: " + err.Error() + ")"
	}
	defer f.Close()
	if _, err := f.Write(l.buf); err != nil {
		return "(not kept: " + err.Error() + ")"
	}
	return f.Name()
}

// tail returns the last n lines of the log, without the goroutine dump of a SIGQUIT.
func (l *logSink) tail(n int) string {
	lines := l.lines()
	for i, line := range lines {
		if strings.HasPrefix(line, "SIGQUIT: quit") {
			lines = lines[:i]
			break
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
