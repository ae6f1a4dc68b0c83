package promote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-agent/gitops-agent/health"
	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
	"github.com/gitops-agent/gitops-agent/sync/inventory"
)

// Repository opens the followed repository's object store; *source.Git is one.
type Repository interface {
	Open() (*git.Repository, error)
}

// Renderer renders an environment from a commit; *render.Renderer is one.
type Renderer interface {
	RenderCommit(ctx context.Context, repo *git.Repository, commit plumbing.Hash, envPath string) (*render.Result, error)
}

// Validator checks rendered objects; *policy.Validator is one.
type Validator interface {
	Validate(ctx context.Context, env string, objs []render.Object) ([]policy.Finding, error)
}

// Target is the cluster an environment is promoted in, with the clients that act on it.
type Target struct {
	Apply     *apply.Manager
	Inventory *inventory.Store
	Health    *health.Checker
	// Client reads the live colour's replicas, scales a colour to zero and runs smoke Jobs.
	Client dynamic.Interface
}

// EnvConfig is one environment promoted blue/green.
type EnvConfig struct {
	Name string
	// Path is the environment's overlay in the repository.
	Path string
	// Routers are Services that select the live colour, besides those annotated
	// promote.gitops-agent.io/router: "true".
	Routers []render.Ref
	// AutoPromote switches the routers as soon as the gates pass; otherwise the promotion
	// waits in AwaitingApproval for Confirm. A rollback, asked for by a person already,
	// never waits.
	AutoPromote bool
	// HealthTimeout bounds the wait for the idle colour to become healthy (default 5m).
	HealthTimeout time.Duration
	// SmokeTimeout bounds the wait for the smoke Jobs to complete (default 10m).
	SmokeTimeout time.Duration
	// RollbackWindow is how long the previous colour keeps running after a switch (default 1h).
	RollbackWindow time.Duration
	Target         Target
}

// Defaults of EnvConfig.
const (
	DefaultHealthTimeout  = 5 * time.Minute
	DefaultSmokeTimeout   = 10 * time.Minute
	DefaultRollbackWindow = time.Hour
)

// Options tune a Promoter.
type Options struct {
	// Namespace is the agent's namespace, where the state ConfigMaps live
	// (inventory.DefaultNamespace when empty).
	Namespace string
	// HistoryLimit is how many finished promotions each environment's state keeps (default 20).
	HistoryLimit int
	Events       record.EventRecorder
	// EventTarget returns the object Events about env are recorded on (its Environment).
	EventTarget func(env string) (*corev1.ObjectReference, bool)
	Registerer  prometheus.Registerer
	Log         *slog.Logger
	// Applied is called after each apply with what was applied (for drift detection); may be nil.
	Applied func(env, commit string, objs []*unstructured.Unstructured)
	// OnChange is called whenever an env's State changes (status display); may be nil.
	OnChange func(env string)
}

// Promoter promotes environments blue/green, one worker per environment.
type Promoter struct {
	repo      Repository
	renderer  Renderer
	validator Validator
	store     *stateStore
	metrics   *metrics
	log       *slog.Logger
	opts      Options
	envs      map[string]*envWorker

	mu      sync.Mutex
	tags    map[string]string // guarded by mu
	running bool              // guarded by mu
}

// New returns a Promoter of envs; client reads and writes the state ConfigMaps in
// opts.Namespace.
func New(repo Repository, renderer Renderer, validator Validator, client kubernetes.Interface, envs []EnvConfig, opts Options) (*Promoter, error) {
	if opts.Namespace == "" {
		opts.Namespace = inventory.DefaultNamespace
	}
	if opts.HistoryLimit <= 0 {
		opts.HistoryLimit = 20
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("register promotion metrics: %w", err)
	}
	p := &Promoter{repo: repo, renderer: renderer, validator: validator, store: &stateStore{client: client, namespace: opts.Namespace},
		metrics: m, log: opts.Log, opts: opts, envs: map[string]*envWorker{}}
	var errs []error
	for _, cfg := range envs {
		if err := checkEnv(cfg); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := p.envs[cfg.Name]; dup {
			errs = append(errs, fmt.Errorf("environment %s is configured twice", cfg.Name))
			continue
		}
		cfg.HealthTimeout = cmpOr(cfg.HealthTimeout, DefaultHealthTimeout)
		cfg.SmokeTimeout = cmpOr(cfg.SmokeTimeout, DefaultSmokeTimeout)
		cfg.RollbackWindow = cmpOr(cfg.RollbackWindow, DefaultRollbackWindow)
		p.envs[cfg.Name] = &envWorker{cfg: cfg, wake: make(chan struct{}, 1)}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func checkEnv(cfg EnvConfig) error {
	if cfg.Name == "" {
		return errors.New("an environment promoted blue/green has no name")
	}
	if err := validateStateName(cfg.Name); err != nil {
		return err
	}
	t := cfg.Target
	if t.Apply == nil || t.Inventory == nil || t.Health == nil || t.Client == nil {
		return fmt.Errorf("environment %s: its target lacks a client (Apply, Inventory, Health and Client are all required)", cfg.Name)
	}
	for _, r := range cfg.Routers {
		if r.GroupKind() != gkService {
			return fmt.Errorf("environment %s: router %s is not a Service: promotion switches Service selectors", cfg.Name, r)
		}
	}
	return nil
}

// Environments returns the names of the environments, sorted.
func (p *Promoter) Environments() []string { return slices.Sorted(maps.Keys(p.envs)) }

// SetTags takes every tag of the repository (name → commit) after each fetch and wakes the
// environments whose requesting tags changed.
func (p *Promoter) SetTags(tags map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tags = maps.Clone(tags)
	for name, e := range p.envs {
		mine := map[string]string{}
		for t, c := range tags {
			if ParseTag(name, t) {
				mine[t] = c
			}
		}
		if !maps.Equal(mine, e.tags) {
			e.tags = mine
			e.poke()
		}
	}
}

// Confirm switches env to the colour awaiting approval.
func (p *Promoter) Confirm(env string) error {
	e, ok := p.envs[env]
	if !ok {
		return fmt.Errorf("environment %s is not promoted blue/green", env)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// The operation that reached AwaitingApproval may still be ending: the worker acts on
	// the confirmation once it has.
	if !e.loaded || e.state.Phase != PhaseAwaitingApproval {
		return fmt.Errorf("environment %s has no promotion awaiting approval (phase %s)", env, orIdle(e.state.Phase))
	}
	e.confirm = true
	e.poke()
	return nil
}

// Rollback returns env to its previous release: at once while the previous colour is warm,
// otherwise by redeploying the previous commit through the gates.
func (p *Promoter) Rollback(env string) error {
	e, ok := p.envs[env]
	if !ok {
		return fmt.Errorf("environment %s is not promoted blue/green", env)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := &e.state
	switch {
	case !e.loaded:
		return fmt.Errorf("environment %s: the promotion state is not loaded yet; retry in a moment", env)
	case st.Current != nil:
		return fmt.Errorf("environment %s: the %s of %s (commit %s) is in phase %s and replaces the previous colour; the live colour is unchanged so far; roll back once it ends",
			env, st.Current.Kind, describeTag(st.Current.Tag), shortCommit(st.Current.Commit), st.Phase)
	case st.Previous == nil:
		return fmt.Errorf("environment %s has no previous release to roll back to", env)
	}
	e.rollback = true
	e.poke()
	return nil
}

// State returns env's promotion state; false when env is unknown or its state is not loaded
// yet.
func (p *Promoter) State(env string) (State, bool) {
	e, ok := p.envs[env]
	if !ok {
		return State{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !e.loaded {
		return State{Env: env, Phase: PhaseIdle}, false
	}
	return e.state.clone(), true
}

func orIdle(p Phase) Phase {
	if p == "" {
		return PhaseIdle
	}
	return p
}

// Run loads each environment's state, finishes or abandons what a previous run left half
// done, and promotes until ctx ends. Operations in progress then stop where they are; the
// next Run resumes from the recorded state.
func (p *Promoter) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return errors.New("the promoter is running already")
	}
	p.running = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.running = false
		p.mu.Unlock()
	}()
	var wg sync.WaitGroup
	for _, e := range p.envs {
		wg.Go(func() { p.work(ctx, e) })
	}
	wg.Wait()
	return nil
}
