package promote

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-agent/gitops-agent/health"
	"github.com/gitops-agent/gitops-agent/localcluster"
	"github.com/gitops-agent/gitops-agent/localcluster/clustertest"
	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
	"github.com/gitops-agent/gitops-agent/sync/gitserver"
	"github.com/gitops-agent/gitops-agent/sync/inventory"
)

var cluster *localcluster.Cluster

// TestMain starts the local cluster, unless -short asks for the unit tests only.
func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, func(c *localcluster.Cluster) { cluster = c }))
}

const testEnv = "prod"

// harness is one cluster-backed test: its namespace (the agent's namespace too), a real git
// repository with the environment, and the clients a Promoter needs.
type harness struct {
	t      testing.TB
	ns     string
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	repo   *gitserver.Repo
	target Target
	events *record.FakeRecorder

	commits map[string]string // version → commit
}

// release is what a commit of the test repository changes.
type release struct {
	version string
	// behavior is the kwok behaviour of the web pods (localcluster.Behavior...), "" for
	// healthy.
	behavior string
	// smokeBehavior is the kwok behaviour of the smoke Job's pod.
	smokeBehavior string
	// legacy adds the ConfigMap web-legacy, so that a later release can drop it.
	legacy bool
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	c := clustertest.NewClients(t, cluster, 200, 400)
	cs, dyn := c.Kube, c.Dynamic
	manager, err := apply.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := c.Mapper
	hopts := health.DefaultOptions()
	hopts.Interval = 100 * time.Millisecond
	ns := clustertest.Namespace(t, cs)
	dir := t.TempDir()
	repo, err := gitserver.NewRepo(t.Context(), filepath.Join(dir, "server"), "app.git", filepath.Join(dir, "work"), "testdata/repo")
	if err != nil {
		t.Fatal(err)
	}
	return &harness{
		t: t, ns: ns, cs: cs, dyn: dyn, repo: repo,
		target: Target{
			Apply:     manager,
			Inventory: inventory.NewStore(cs.CoreV1(), ns),
			Health:    health.NewChecker(health.NewClusterReader(dyn, mapper), hopts),
			Client:    dyn,
		},
		events:  record.NewFakeRecorder(1000),
		commits: map[string]string{},
	}
}

// Open opens the bare repository, as source.Git does.
func (h *harness) Open() (*git.Repository, error) { return git.PlainOpen(h.repo.Bare) }

// commit commits the environment's overlay for r and pushes it.
func (h *harness) commit(r release) string {
	h.t.Helper()
	var patches []string
	annotate := func(apiVersion, kind, name, behavior string) {
		patches = append(patches, fmt.Sprintf(`  - patch: |-
      apiVersion: %s
      kind: %s
      metadata: {name: %s}
      spec: {template: {metadata: {annotations: {%s: %s}}}}`, apiVersion, kind, name, localcluster.PodBehaviorAnnotation, behavior))
	}
	if r.behavior != "" {
		annotate("apps/v1", "Deployment", "web", r.behavior)
	}
	if r.smokeBehavior != "" {
		annotate("batch/v1", "Job", "web-smoke", r.smokeBehavior)
	}
	overlay := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: %s
resources: [../../base]
components: [../../smoke]
images:
  - name: registry.example/web
    newTag: %q
`, h.ns, r.version)
	if r.legacy {
		overlay += `configMapGenerator:
  - name: web-legacy
    literals: [mode=legacy]
    options: {disableNameSuffixHash: true}
`
	}
	if len(patches) > 0 {
		overlay += "patches:\n" + strings.Join(patches, "\n") + "\n"
	}
	c, err := h.repo.Commit(h.t.Context(), "release "+r.version, map[string]string{"envs/prod/kustomization.yaml": overlay})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.repo.Push(h.t.Context()); err != nil {
		h.t.Fatal(err)
	}
	h.commits[r.version] = c
	return c
}

// tag tags commit and pushes the tag.
func (h *harness) tag(name, commit string) {
	h.t.Helper()
	if err := h.repo.Tag(h.t.Context(), name, commit, ""); err != nil {
		h.t.Fatal(err)
	}
	if err := h.repo.Push(h.t.Context()); err != nil {
		h.t.Fatal(err)
	}
}

// tags reads the bare repository's tags, each peeled to its commit, as a fetch reports them.
func (h *harness) tags() map[string]string {
	h.t.Helper()
	repo, err := h.Open()
	if err != nil {
		h.t.Fatal(err)
	}
	iter, err := repo.Tags()
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]string{}
	if err := iter.ForEach(func(ref *plumbing.Reference) error {
		c, err := repo.ResolveRevision(plumbing.Revision(ref.Name()))
		if err != nil {
			return err
		}
		out[ref.Name().Short()] = c.String()
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// allowAll is a Validator without findings; denyAll denies every object.
type allowAll struct{}

func (allowAll) Validate(context.Context, string, []render.Object) ([]policy.Finding, error) {
	return nil, nil
}

type denyAll struct{}

func (denyAll) Validate(_ context.Context, env string, objs []render.Object) ([]policy.Finding, error) {
	var out []policy.Finding
	for _, o := range objs {
		out = append(out, policy.Finding{Env: env, Object: o.Ref(), Source: o.Source, Rule: "test-deny", Severity: policy.Deny, Message: "denied by the test"})
	}
	return out, nil
}

// envConfig is the test environment with short timeouts.
func (h *harness) envConfig() EnvConfig {
	return EnvConfig{
		Name: testEnv, Path: "envs/prod", AutoPromote: true,
		HealthTimeout: 30 * time.Second, SmokeTimeout: 30 * time.Second, RollbackWindow: time.Hour,
		Target: h.target,
	}
}

// running is a Promoter under test and the end of its Run.
type running struct {
	*Promoter
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	applied map[string][]string // commit → refs passed to Options.Applied
}

// start runs a Promoter of cfg until the test ends or stop is called. onChange, if not nil,
// is called with the Promoter on every state change.
func (h *harness) start(cfg EnvConfig, validator Validator, onChange func(*running)) *running {
	h.t.Helper()
	reg := prometheus.NewRegistry()
	r := &running{reg: reg, done: make(chan struct{}), applied: map[string][]string{}}
	p, err := New(h, render.New(render.DefaultOptions()), validator, h.cs, []EnvConfig{cfg}, Options{
		Namespace: h.ns, Events: h.events, Registerer: reg,
		EventTarget: func(env string) (*corev1.ObjectReference, bool) {
			return &corev1.ObjectReference{Kind: "Environment", Namespace: h.ns, Name: env}, true
		},
		Log: slog.New(slog.NewTextHandler(testWriter{h.t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Applied: func(env, commit string, objs []*unstructured.Unstructured) {
			r.mu.Lock()
			defer r.mu.Unlock()
			for _, o := range objs {
				r.applied[commit] = append(r.applied[commit], render.RefOf(o).String())
			}
		},
		OnChange: func(string) {
			if onChange != nil {
				onChange(r)
			}
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	r.Promoter = p
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		if err := p.Run(ctx); err != nil {
			h.t.Errorf("Run: %v", err)
		}
	}()
	h.t.Cleanup(r.stop)
	return r
}

// stop ends Run abruptly, as a killed agent would, and waits for it to return.
func (r *running) stop() {
	r.cancel()
	<-r.done
}

// testWriter sends log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// waitState waits until env's state satisfies ok.
func (h *harness) waitState(p *running, timeout time.Duration, what string, ok func(State) bool) State {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, loaded := p.State(testEnv)
		if loaded && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("after %s: not %s; state: %+v", timeout, what, describeState(st))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func describeState(st State) string {
	s := fmt.Sprintf("phase=%s message=%q", st.Phase, st.Message)
	if st.Live != nil {
		s += fmt.Sprintf(" live=%s/%s", st.Live.Color, shortCommit(st.Live.Commit))
	}
	for _, e := range st.History {
		s += fmt.Sprintf(" [%s %s %s %s: %s]", e.Result, e.Tag, shortCommit(e.Commit), e.Color, e.Reason)
	}
	return s
}

// liveIs reports whether commit is live in colour c.
func liveIs(c Color, commit string) func(State) bool {
	return func(st State) bool {
		return st.Live != nil && st.Live.Color == c && st.Live.Commit == commit && st.Current == nil
	}
}

// routerColor returns the colour the router Service selects.
func (h *harness) routerColor() Color {
	h.t.Helper()
	svc, err := h.cs.CoreV1().Services(h.ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return Color(svc.Spec.Selector[LabelColor])
}

// replicas returns spec.replicas and the ready replicas of Deployment web-<c>; -1 when it
// does not exist.
func (h *harness) replicas(c Color) (int32, int32) {
	h.t.Helper()
	d, err := h.cs.AppsV1().Deployments(h.ns).Get(context.Background(), ColoredName("web", c), metav1.GetOptions{})
	if isNotFound(err) {
		return -1, -1
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return *d.Spec.Replicas, d.Status.ReadyReplicas
}

// image returns the image of Deployment web-<c>.
func (h *harness) image(c Color) string {
	h.t.Helper()
	d, err := h.cs.AppsV1().Deployments(h.ns).Get(context.Background(), ColoredName("web", c), metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// results lists the history's results, oldest first, with their tags.
func results(st State) []string {
	var out []string
	for i := len(st.History) - 1; i >= 0; i-- {
		out = append(out, string(st.History[i].Result)+" "+st.History[i].Tag)
	}
	return out
}

// drainEvents returns the events recorded so far.
func (h *harness) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-h.events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}
