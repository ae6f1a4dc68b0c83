package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-agent/gitops-agent/config"
	"github.com/gitops-agent/gitops-agent/drift"
	"github.com/gitops-agent/gitops-agent/health"
	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/promote"
	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/inventory"
	"github.com/gitops-agent/gitops-agent/sync/reconcile"
	"github.com/gitops-agent/gitops-agent/sync/source"
	"github.com/gitops-agent/gitops-agent/sync/webhook"
)

// runConfig is what `gitops-agent run` was asked to do.
type runConfig struct {
	configPath string
	kube       kubeFlags
	listen     string // overrides the configuration's listen address
	workers    int
	resync     time.Duration
	qps        float64
	burst      int
}

func parseRunFlags(c *cli, args []string) (runConfig, bool, int) {
	cfg := runConfig{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: gitops-agent run --config FILE [flags]\n\nFollows the deployments repository and keeps the configured environments on its newest valid commit.\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.configPath, "config", "", "agent configuration file (YAML; see README, Configuration)")
	fs.StringVar(&cfg.listen, "listen", "", "address for webhooks, /status, /metrics, /healthz and /readyz (overrides the configuration's listen)")
	fs.IntVar(&cfg.workers, "workers", 16, "environments synced at once (a fleet of 1,000 environments syncs in under a minute with 32 and --kube-qps 1000)")
	fs.DurationVar(&cfg.resync, "resync", 10*time.Minute, "re-apply every environment this often (0: never); costs no write when nothing changed")
	fs.Float64Var(&cfg.qps, "kube-qps", 200, "requests per second to each API server")
	fs.IntVar(&cfg.burst, "kube-burst", 400, "burst of requests to each API server")
	cfg.kube.register(fs)
	if ok, code := parseFlags(fs, c, args); !ok {
		return cfg, false, code
	}
	if cfg.configPath == "" {
		fmt.Fprintf(c.stderr, "run: --config is required\n")
		return cfg, false, exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "run: unexpected arguments %q\n", fs.Args())
		return cfg, false, exitError
	}
	return cfg, true, exitOK
}

func runRun(ctx context.Context, c *cli, args []string) int {
	rc, ok, code := parseRunFlags(c, args)
	if !ok {
		return code
	}
	cfg, err := config.Load(rc.configPath)
	if err != nil {
		fmt.Fprintf(c.stderr, "run: %v\n", err)
		return exitError
	}
	if rc.listen != "" {
		cfg.Listen = rc.listen
	}
	if err := runAgent(ctx, c.logger, cfg, rc); err != nil {
		c.logger.Error("agent stopped", "error", err)
		return exitError
	}
	return exitOK
}

// agent is the running agent's parts.
type agent struct {
	log        *slog.Logger
	cfg        *config.Config
	registry   *prometheus.Registry
	git        *source.Git
	poller     *source.Poller
	statuses   *reconcile.StatusStore
	controller *reconcile.Controller
	policies   *policy.RegoWatcher // nil with the built-in policies
	restConfig *rest.Config
	own        *clusterClients   // the agent's own cluster
	detectors  []*drift.Detector // one per target cluster
	promoter   *promote.Promoter // nil when no environment is promoted
	// leading is true while this replica holds the lease: it alone fetches and applies.
	leading atomic.Bool
	// synced is true once the first fetch was handled, for /readyz.
	synced atomic.Bool
}

func runAgent(ctx context.Context, log *slog.Logger, cfg *config.Config, rc runConfig) error {
	a, err := newAgent(ctx, log, cfg, rc)
	if err != nil {
		return err
	}
	if a.policies != nil {
		defer a.policies.Close()
		go func() {
			if err := a.policies.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("policy watcher stopped; the policies in force stay", "error", err)
			}
		}()
	}
	hooks, err := newWebhookHandler(cfg, a)
	if err != nil {
		return err
	}
	server := &http.Server{Addr: cfg.Listen, Handler: a.routes(hooks), ReadHeaderTimeout: 10 * time.Second}
	listener, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another agent running, or is the port taken?)", cfg.Listen, err)
	}
	log.Info("serving", "address", listener.Addr().String(), "endpoints", "/hooks/{github,gitlab,gitea,generic} /status /metrics /healthz /readyz")
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(listener) }()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdownCtx)
	}()

	lead := func(ctx context.Context) error { return a.lead(ctx, rc) }
	runErr := make(chan error, 1)
	go func() {
		if *cfg.LeaderElection.Enabled {
			runErr <- a.electAndLead(ctx, lead)
		} else {
			runErr <- lead(ctx)
		}
	}()
	select {
	case err := <-serveErr:
		return fmt.Errorf("HTTP server: %w", err)
	case err := <-runErr:
		return err
	}
}

func newAgent(ctx context.Context, log *slog.Logger, cfg *config.Config, rc runConfig) (*agent, error) {
	restConfig, err := rc.kube.restConfig()
	if err != nil {
		return nil, err
	}
	restConfig.QPS, restConfig.Burst = float32(rc.qps), rc.burst
	restConfig.UserAgent = "gitops-agent/" + version

	a := &agent{log: log, cfg: cfg, registry: prometheus.NewRegistry(), restConfig: restConfig}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if a.git, err = source.NewGit(source.GitOptions{
		URL: cfg.Repo.URL, Branch: cfg.Repo.Branch, Dir: cfg.Repo.CacheDir,
		Auth: source.Auth{Username: cfg.Repo.Auth.Username, TokenFile: cfg.Repo.Auth.TokenFile, SSHKeyFile: cfg.Repo.Auth.SSHKeyFile, KnownHostsFile: cfg.Repo.Auth.KnownHostsFile},
	}); err != nil {
		return nil, err
	}
	fetchMetrics, err := source.NewMetrics(a.registry)
	if err != nil {
		return nil, err
	}
	pollerOpts := source.DefaultPollerOptions()
	pollerOpts.Interval, pollerOpts.Observer = cfg.Repo.PollInterval.Duration, fetchMetrics
	if a.poller, err = source.NewPoller(a.git, pollerOpts); err != nil {
		return nil, err
	}

	validator, err := a.newValidator(ctx)
	if err != nil {
		return nil, err
	}

	clients, err := newClusterClients(restConfig)
	if err != nil {
		return nil, err
	}
	a.own = clients
	a.statuses = reconcile.NewStatusStore(clients.dynamic, cfg.Namespace)
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: clients.kube.CoreV1().Events(cfg.Namespace)})
	recorder := broadcaster.NewRecorder(clients.scheme, corev1.EventSource{Component: "gitops-agent"})
	// The detectors' reports reach the status through the reconciler, which is built last.
	var rec *reconcile.Reconciler
	notify := func(env string) { rec.Notify(env) }
	envs, err := a.environments(clients, recorder, notify)
	if err != nil {
		return nil, err
	}

	metrics, err := reconcile.NewMetrics(a.registry)
	if err != nil {
		return nil, err
	}
	renderer := render.New(render.DefaultOptions())
	recOpts := reconcile.Options{HistoryLimit: cfg.HistoryLimit}
	if a.promoter, err = a.newPromoter(clients, envs, renderer, validator, recorder, notify); err != nil {
		return nil, err
	}
	if a.promoter != nil {
		recOpts.Promotions = a.promoter
	}
	rec = reconcile.NewReconciler(a.git, renderer, validator, a.statuses, recorder, metrics, log, envs, recOpts)
	a.controller = reconcile.NewController(rec, log, reconcile.ControllerOptions{Workers: rc.workers, ResyncInterval: rc.resync})
	return a, nil
}

// newValidator builds the schema check and the policies: the configured directory, reloaded on
// change, or the policies built into the agent.
func (a *agent) newValidator(ctx context.Context) (*policy.Validator, error) {
	unknown := policy.Deny
	if a.cfg.Policies.UnknownKinds == "warn" {
		unknown = policy.Warn
	}
	schema, err := policy.NewSchemaValidator(ctx, policy.SchemaOptions{UnknownKind: unknown, CRDDirs: a.cfg.Policies.CRDDirs})
	if err != nil {
		return nil, err
	}
	if a.cfg.Policies.Dir == "" {
		set, err := policy.LoadDefaultRego(ctx, policy.DefaultRegoOptions())
		if err != nil {
			return nil, err
		}
		return policy.NewValidator(schema, func() *policy.RegoSet { return set }), nil
	}
	opts := policy.DefaultRegoWatchOptions()
	opts.OnReload = func(r policy.RegoReload) {
		if r.Err != nil {
			a.log.Error("policies do not compile; the previous set stays in force", "dir", a.cfg.Policies.Dir, "error", r.Err)
			return
		}
		a.log.Info("policies reloaded", "dir", a.cfg.Policies.Dir, "rules", len(r.Set.Rules()))
	}
	if a.policies, err = policy.NewRegoWatcher(ctx, a.cfg.Policies.Dir, opts); err != nil {
		return nil, err
	}
	return policy.NewValidator(schema, a.policies.Current), nil
}

// environments builds each environment with the clients of its target cluster; environments
// on the same cluster share them (and so the discovery cache and the rate limit).
func (a *agent) environments(own *clusterClients, recorder record.EventRecorder, notify func(env string)) ([]reconcile.Environment, error) {
	targets := map[config.Cluster]*reconcile.Target{}
	var envs []reconcile.Environment
	for _, e := range a.cfg.Environments {
		target, ok := targets[e.Cluster]
		if !ok {
			clients := own
			if e.Cluster.Kubeconfig != "" {
				restConfig, err := kubeFlags{kubeconfig: e.Cluster.Kubeconfig, context: e.Cluster.Context}.restConfig()
				if err != nil {
					return nil, fmt.Errorf("environment %s: %w", e.Name, err)
				}
				restConfig.QPS, restConfig.Burst = a.restConfig.QPS, a.restConfig.Burst
				if clients, err = newClusterClients(restConfig); err != nil {
					return nil, fmt.Errorf("environment %s: %w", e.Name, err)
				}
			}
			detector, err := drift.NewDetector(clients.dynamic, clients.mapper, clients.apply, drift.Options{
				Events: recorder, EventTarget: a.statuses.ObjectReference, Registerer: a.driftRegisterer(e.Cluster),
				Log: a.log.With("cluster", clusterName(e.Cluster)), OnChange: notify,
			})
			if err != nil {
				return nil, fmt.Errorf("environment %s: %w", e.Name, err)
			}
			a.detectors = append(a.detectors, detector)
			target = &reconcile.Target{
				Apply:     clients.apply,
				Inventory: inventory.NewStore(clients.kube.CoreV1(), a.cfg.Namespace),
				Health:    health.NewChecker(clients.health, health.Options{}),
				Drift:     detector,
				Client:    clients.dynamic,
			}
			targets[e.Cluster] = target
		}
		env := reconcile.Environment{
			Name: e.Name, Path: e.Path, Manual: e.Sync == config.SyncManual, Prune: *e.Prune,
			HealthTimeout: e.HealthTimeout.Duration, Target: target,
			Drift: driftSpec(e.Drift),
		}
		if p := e.Promotion; p != nil {
			env.Promotion = &reconcile.PromotionSpec{Strategy: p.Strategy, Routers: p.Routers}
		}
		envs = append(envs, env)
	}
	return envs, nil
}

// newPromoter returns the promoter of the environments promoted blue/green, nil when there is
// none.
func (a *agent) newPromoter(own *clusterClients, envs []reconcile.Environment, renderer *render.Renderer, validator *policy.Validator, recorder record.EventRecorder, notify func(env string)) (*promote.Promoter, error) {
	var promoted []promote.EnvConfig
	for _, e := range envs {
		if e.Promotion == nil {
			continue
		}
		p := a.cfg.Environments[slices.IndexFunc(a.cfg.Environments, func(c config.Environment) bool { return c.Name == e.Name })].Promotion
		routers, err := reconcile.RouterRefs(p.Routers)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", e.Name, err)
		}
		promoted = append(promoted, promote.EnvConfig{
			Name: e.Name, Path: e.Path, Routers: routers, AutoPromote: *p.AutoPromote,
			HealthTimeout: p.HealthTimeout.Duration, SmokeTimeout: p.SmokeTimeout.Duration, RollbackWindow: p.RollbackWindow.Duration,
			Target: promote.Target{Apply: e.Target.Apply, Inventory: e.Target.Inventory, Health: e.Target.Health, Client: e.Target.Client},
		})
	}
	if len(promoted) == 0 {
		return nil, nil
	}
	return promote.New(a.git, renderer, validator, own.kube, promoted, promote.Options{
		Namespace: a.cfg.Namespace, HistoryLimit: a.cfg.HistoryLimit,
		Events: recorder, EventTarget: a.statuses.ObjectReference,
		Registerer: a.registry, Log: a.log, OnChange: notify,
	})
}

// driftSpec is how the detector judges an environment configured with d.
func driftSpec(d config.Drift) drift.EnvSpec {
	spec := drift.EnvSpec{SelfHeal: d.SelfHeal, IgnoreHPAReplicas: *d.IgnoreHPAReplicas}
	for _, ig := range d.Ignore {
		spec.Ignore = append(spec.Ignore, drift.IgnoreRule{Group: ig.Group, Kind: ig.Kind, Namespace: ig.Namespace, Name: ig.Name, Paths: ig.Paths})
	}
	return spec
}

// driftRegisterer registers the drift metrics of the detector of cluster: those of the
// agent's own cluster as they are, those of other clusters with a cluster label, since every
// detector exports the same names.
func (a *agent) driftRegisterer(cluster config.Cluster) prometheus.Registerer {
	if cluster == (config.Cluster{}) {
		return a.registry
	}
	return prometheus.WrapRegistererWith(prometheus.Labels{"cluster": clusterName(cluster)}, a.registry)
}

// clusterName names a target cluster in logs and metrics.
func clusterName(c config.Cluster) string {
	switch {
	case c.Kubeconfig == "":
		return "in-cluster"
	case c.Context != "":
		return c.Context
	default:
		return c.Kubeconfig
	}
}

// lead runs what only the leader may: fetching, applying, and acting on sync requests.
func (a *agent) lead(ctx context.Context, rc runConfig) error {
	a.leading.Store(true)
	defer a.leading.Store(false)
	a.log.Info("leading: following the repository", "url", a.git.URL(), "branch", a.git.Branch(), "environments", len(a.cfg.Environments))
	if err := a.statuses.EnsureInstalled(ctx); err != nil {
		return err
	}
	var promotions reconcile.PromotionActions
	if a.promoter != nil {
		promotions = a.promoter
	}
	if err := a.controller.WatchRequests(ctx, a.own.dynamic, a.cfg.Namespace, a.poller.Trigger, promotions); err != nil {
		return err
	}
	for _, d := range a.detectors {
		go func() {
			if err := d.Run(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("drift detection stopped; drift is no longer reported", "error", err)
			}
		}()
	}
	go a.controller.Run(ctx)
	if a.promoter != nil {
		go func() {
			if err := a.promoter.Run(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("promotion stopped; promoted environments stay as they are", "error", err)
			}
		}()
	}
	err := a.poller.Run(ctx, func(ctx context.Context, ev source.Event) {
		a.controller.HandleSourceEvent(ctx, ev)
		if ev.Err == nil {
			if a.promoter != nil {
				a.promoter.SetTags(ev.Change.After.Tags)
			}
			a.synced.Store(true)
		}
	})
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return nil
	}
	return err
}

// routes serves webhooks, status, metrics and probes.
func (a *agent) routes(hooks http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/hooks/", hooks)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		// A standby replica is ready: it serves status and metrics, and takes over on failover.
		if a.leading.Load() && !a.synced.Load() {
			http.Error(w, "waiting for the first fetch of the repository", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /status", a.serveStatus)
	return mux
}

func newWebhookHandler(cfg *config.Config, a *agent) (http.Handler, error) {
	files := map[webhook.Provider]string{}
	for provider, s := range map[webhook.Provider]config.WebhookSecret{
		webhook.GitHub: cfg.Webhooks.GitHub, webhook.GitLab: cfg.Webhooks.GitLab,
		webhook.Gitea: cfg.Webhooks.Gitea, webhook.Generic: cfg.Webhooks.Generic,
	} {
		if s.SecretFile != "" {
			files[provider] = s.SecretFile
		}
	}
	if len(files) == 0 {
		// No webhooks configured: the agent polls only, and every hook path is unknown.
		return http.NotFoundHandler(), nil
	}
	secrets, err := webhook.LoadSecrets(files)
	if err != nil {
		return nil, err
	}
	return webhook.New(triggerFunc(a.trigger), webhook.Options{Secrets: secrets, Registerer: a.registry})
}

// trigger pokes the poller. A standby replica's poller is not running: it relays the request to
// the leader through an Environment object, which the leader watches.
func (a *agent) trigger(reason string) {
	if a.leading.Load() {
		a.poller.Trigger(reason)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.statuses.RequestFetch(ctx, a.cfg.Environments[0].Name, reason, time.Now()); err != nil {
		a.log.Warn("webhook received by a standby replica and not relayed; the leader will see the change at its next poll", "trigger", reason, "error", err)
		return
	}
	a.log.Info("webhook relayed to the leader", "trigger", reason)
}

type triggerFunc func(reason string)

func (f triggerFunc) Trigger(reason string) { f(reason) }
