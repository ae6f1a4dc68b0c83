package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-agent/gitops-agent/drift"
	"github.com/gitops-agent/gitops-agent/health"
	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
	"github.com/gitops-agent/gitops-agent/sync/inventory"
)

// Target is a cluster environments are applied to, with the clients that act on it.
type Target struct {
	Apply     *apply.Manager
	Inventory *inventory.Store
	Health    *health.Checker
	// Drift is told what each apply declared; nil leaves drift undetected.
	Drift DriftDetector
	// Client reads and changes objects directly, for promotions.
	Client dynamic.Interface
}

// Environment is one environment as the reconciler runs it.
type Environment struct {
	Name          string
	Path          string // overlay path in the repository
	Manual        bool   // apply only on a sync request
	Prune         bool
	HealthTimeout time.Duration
	Target        *Target
	// Drift says how drift of the environment is judged and healed.
	Drift drift.EnvSpec
	// Promotion is set for environments that follow promotion tags, which another controller
	// applies: the reconciler keeps their status object but applies nothing.
	Promotion *PromotionSpec
}

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

// Options tune a Reconciler.
type Options struct {
	// HistoryLimit is how many attempts each environment's status keeps.
	HistoryLimit int
	// HealthWaits bounds the health waits in progress at once (default 32). Waits run beside
	// the workers, so that rollouts bounded by other controllers do not hold up applies; the
	// bound keeps their polling from crowding the API server's rate limit.
	HealthWaits int
	// Promotions reports the state of promoted environments; nil when none is promoted.
	Promotions Promotions
}

// Reconciler syncs environments to the newest commit of the followed branch.
type Reconciler struct {
	repo      Repository
	renderer  Renderer
	validator Validator
	status    *StatusStore
	events    record.EventRecorder
	metrics   *Metrics
	log       *slog.Logger
	opts      Options

	envs map[string]*envState
	// healthSlots holds a token per health wait in progress.
	healthSlots chan struct{}
	// notify asks for a sync of an environment whose health verdict is in; the Controller
	// sets it to its queue.
	notify func(env string)

	mu   sync.Mutex
	head Head // guarded by mu
	// headMoved is closed, and replaced, whenever head changes: waits on a superseded commit's
	// health end early. Guarded by mu.
	headMoved chan struct{}
}

// Head is the commit the followed branch points at, and the trigger that revealed it.
type Head struct {
	Commit      string
	Trigger     string
	TriggeredAt time.Time
}

// envState is what the reconciler keeps of one environment between syncs. Only the worker that
// holds the environment's key touches it.
type envState struct {
	env    Environment
	status *Status // nil until loaded from the cluster
	// syncRequest is the newest sync-request annotation seen on the Environment object. The
	// informer writes it while a worker may sync: guarded by Reconciler.mu.
	syncRequest string
	// health is the wait for the objects of the last apply, until its verdict is recorded.
	health *healthWait
	// driftCommit is the commit whose objects the drift detector holds ("<commit>/<colour>"
	// for a promoted environment).
	driftCommit string
	// driftPaused is set while a promotion changes a promoted environment.
	driftPaused bool
}

// NewReconciler returns a reconciler of envs.
func NewReconciler(repo Repository, renderer Renderer, validator Validator, status *StatusStore, events record.EventRecorder, metrics *Metrics, log *slog.Logger, envs []Environment, opts Options) *Reconciler {
	if opts.HistoryLimit <= 0 {
		opts.HistoryLimit = 20
	}
	if opts.HealthWaits <= 0 {
		opts.HealthWaits = 32
	}
	r := &Reconciler{repo: repo, renderer: renderer, validator: validator, status: status, events: events, metrics: metrics, log: log, opts: opts,
		envs: map[string]*envState{}, healthSlots: make(chan struct{}, opts.HealthWaits), headMoved: make(chan struct{})}
	for _, e := range envs {
		r.envs[e.Name] = &envState{env: e}
	}
	return r
}

// Environments returns the names of the environments, sorted.
func (r *Reconciler) Environments() []string { return slices.Sorted(maps.Keys(r.envs)) }

// Notify asks for a sync of env, which records what changed meanwhile (its drift, its
// promotion) in its status.
func (r *Reconciler) Notify(env string) {
	if r.notify != nil {
		r.notify(env)
	}
}

// SetHead records a new head of the followed branch. It reports whether the commit changed.
func (r *Reconciler) SetHead(h Head) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h.Commit == r.head.Commit {
		return false
	}
	r.head = h
	close(r.headMoved)
	r.headMoved = make(chan struct{})
	return true
}

func (r *Reconciler) currentHead() Head {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.head
}

// untilHeadMoves returns a context that ends when ctx does or when the branch head changes.
func (r *Reconciler) untilHeadMoves(ctx context.Context) (context.Context, context.CancelFunc) {
	r.mu.Lock()
	moved := r.headMoved
	r.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-moved:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// attempt is one sync in progress.
type attempt struct {
	Attempt
	env      *envState
	findings []policy.Finding
}

// Sync brings one environment to the current head. force re-applies a commit already applied
// (a start-up or periodic resync, which writes nothing when nothing changed). It returns an
// error only for failures worth retrying (the API server, the inventory); a commit that does
// not render or validate is recorded and waits for the next commit.
func (r *Reconciler) Sync(ctx context.Context, name string, force bool) error {
	es, ok := r.envs[name]
	if !ok {
		return fmt.Errorf("unknown environment %q", name)
	}
	if err := r.ensureLoaded(ctx, es); err != nil {
		return err
	}
	r.collectHealth(es)
	head := r.currentHead()
	if head.Commit == "" {
		return nil // nothing fetched yet
	}
	st := es.status
	request := r.syncRequestOf(es)
	requested := request != "" && request != st.SyncRequestHandled
	st.ObservedCommit = head.Commit
	if es.env.Promotion != nil {
		r.syncPromoted(ctx, es)
		r.refreshDrift(es)
		return r.status.Save(ctx, st)
	}
	// A commit already dealt with waits for the next one, unless its sync failed for a reason
	// worth retrying (the API server, a conflict), which the queue's backoff paces.
	if last := st.LastAttempt; last != nil && last.Commit == head.Commit && last.Result != ResultFailed && !force && !requested {
		r.ensureDriftDesired(ctx, es)
		r.refreshDrift(es)
		return r.status.Save(ctx, st)
	}

	if requested {
		// Handled whatever the outcome, so that `gitops-agent sync --wait` learns it.
		st.SyncRequestHandled = request
	}
	a := &attempt{env: es, Attempt: Attempt{Commit: head.Commit, ShortCommit: shortCommit(head.Commit), Trigger: triggerLabel(head.Trigger), StartedAt: metav1.Now()}}
	started := time.Now()
	rendered, err := r.render(ctx, es.env, head.Commit)
	if err != nil {
		return r.refuse(ctx, a, ResultRenderFailed, err.Error(), started)
	}
	findings, err := r.validator.Validate(ctx, name, rendered.Objects)
	if err != nil {
		// Not the commit's fault: record it, and let the queue retry with backoff.
		return errors.Join(r.refuse(ctx, a, ResultFailed, "validation could not run: "+err.Error(), started), err)
	}
	a.findings = findings
	a.Findings, a.Violations = summarize(findings)
	r.metrics.observeFindings(name, findings)
	if a.Findings["deny"] > 0 {
		return r.refuse(ctx, a, ResultInvalid, fmt.Sprintf("%d deny finding(s) (%s); the environment stays on its last good commit", a.Findings["deny"], violationSummary(a.Violations)), started)
	}
	applied := st.LastApplied != nil && st.LastApplied.Commit == head.Commit
	if es.env.Manual && !applied && !requested {
		return r.refuse(ctx, a, ResultPending, "valid; waiting for `gitops-agent sync "+name+"`", started)
	}
	return r.apply(ctx, a, rendered, head, applied, started)
}

func (r *Reconciler) ensureLoaded(ctx context.Context, es *envState) error {
	if es.status != nil {
		return nil
	}
	spec := EnvironmentSpec{
		Path: es.env.Path, Sync: syncMode(es.env), Prune: es.env.Prune, Promotion: es.env.Promotion,
		Drift: &DriftSpec{SelfHeal: es.env.Drift.SelfHeal, IgnoreHPAReplicas: es.env.Drift.IgnoreHPAReplicas, Ignore: es.env.Drift.Ignore},
	}
	st, request, err := r.status.Open(ctx, es.env.Name, spec)
	if err != nil {
		return err
	}
	if st == nil {
		st = &Status{Name: es.env.Name}
	}
	es.status = st
	r.mu.Lock()
	if es.syncRequest == "" {
		es.syncRequest = request
	}
	r.mu.Unlock()
	return nil
}

// RequestSync records a sync-request annotation seen on an Environment; it reports whether the
// request is new (and the environment should be synced).
func (r *Reconciler) RequestSync(name, value string) bool {
	es, ok := r.envs[name]
	r.mu.Lock()
	defer r.mu.Unlock()
	if !ok || value == "" || value == es.syncRequest {
		return false
	}
	es.syncRequest = value
	return true
}

func (r *Reconciler) syncRequestOf(es *envState) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return es.syncRequest
}

func syncMode(e Environment) string {
	if e.Manual {
		return "manual"
	}
	return "auto"
}

func (r *Reconciler) render(ctx context.Context, env Environment, commit string) (*render.Result, error) {
	repo, err := r.repo.Open()
	if err != nil {
		return nil, err
	}
	return r.renderer.RenderCommit(ctx, repo, plumbing.NewHash(commit), env.Path)
}

// refuse records a commit that is not applied: the environment stays on its last good commit
// and nothing is pruned.
func (r *Reconciler) refuse(ctx context.Context, a *attempt, result Result, message string, started time.Time) error {
	st := a.env.status
	a.Result, a.Message, a.FinishedAt = result, message, metav1.Now()
	r.metrics.observeSync(a.env.env.Name, result, time.Since(started))
	if r.record(a) {
		st.Pending = &CommitEvent{Commit: a.Commit, ShortCommit: a.ShortCommit, Time: a.FinishedAt, Reason: string(result) + ": " + message}
		level, eventType := slog.LevelWarn, corev1.EventTypeWarning
		if result == ResultPending {
			level, eventType = slog.LevelInfo, corev1.EventTypeNormal
		}
		r.log.Log(ctx, level, "commit not applied", "env", a.env.env.Name, "commit", a.ShortCommit, "result", result, "reason", message)
		r.event(a.env.env.Name, eventType, "Commit"+string(result), fmt.Sprintf("commit %s not applied: %s", a.ShortCommit, message))
	}
	r.ensureDriftDesired(ctx, a.env)
	r.refreshDrift(a.env)
	return r.status.Save(ctx, st)
}

// apply applies a valid render, prunes what left it, records the inventory and waits for
// health.
func (r *Reconciler) apply(ctx context.Context, a *attempt, rendered *render.Result, head Head, alreadyApplied bool, started time.Time) error {
	es := a.env
	env := es.env
	st := es.status
	objs := make([]*unstructured.Unstructured, len(rendered.Objects))
	for i, o := range rendered.Objects {
		objs[i] = o.Obj
	}
	previous, err := env.Target.Inventory.Load(ctx, env.Name)
	if err != nil {
		return r.fail(ctx, a, err, started)
	}
	if d := env.Target.Drift; d != nil {
		// The apply's own writes are not drift; the detector looks at everything again after.
		d.Pause(env.Name)
		defer d.Resume(env.Name)
	}
	cs, applyErr := env.Target.Apply.Apply(ctx, objs, apply.DefaultApplyOptions(env.Name))
	if applyErr == nil && !alreadyApplied {
		r.metrics.commitToApplied.WithLabelValues(triggerLabel(head.Trigger)).Observe(time.Since(head.TriggeredAt).Seconds())
	}
	current := inventory.FromChangeSet(env.Name, a.Commit, cs, previous)
	// Prune only after a complete apply: a partial one says nothing reliable about what left git.
	if stale := inventory.Diff(previous, current); env.Prune && applyErr == nil && len(stale) > 0 {
		pending := current.Union(previous)
		if err := env.Target.Inventory.Save(ctx, pending); err != nil {
			return r.fail(ctx, a, err, started)
		}
		current.ResourceVersion = pending.ResourceVersion
		pruned, pruneErr := env.Target.Apply.Prune(ctx, inventory.Refs(stale), apply.DefaultPruneOptions(env.Name))
		current.KeepFailed(pruned)
		cs.Entries = append(cs.Entries, pruned.Entries...)
		applyErr = errors.Join(applyErr, pruneErr)
	}
	if err := env.Target.Inventory.Save(ctx, current); err != nil {
		applyErr = errors.Join(applyErr, err)
	}
	st.ManagedObjects = len(current.IDs)
	r.metrics.managedObjects.WithLabelValues(env.Name).Set(float64(len(current.IDs)))
	a.Changes = map[string]int{}
	for _, e := range cs.Entries {
		a.Changes[string(e.Action)]++
	}
	if applyErr != nil {
		a.Result, a.Message = ResultFailed, applyErr.Error()
		return errors.Join(r.fail(ctx, a, nil, started), applyErr)
	}

	a.Result = ResultApplied
	r.driftApplied(es, a.Commit, objs)
	r.refreshDrift(es)
	if !alreadyApplied {
		st.LastApplied = &CommitEvent{Commit: a.Commit, ShortCommit: a.ShortCommit, Time: metav1.Now()}
	}
	st.Pending = nil
	r.metrics.lastApplied.WithLabelValues(env.Name).Set(float64(st.LastApplied.Time.Unix()))
	r.metrics.observeSync(env.Name, ResultApplied, time.Since(started))
	changed := cs.Count(apply.ActionCreated)+cs.Count(apply.ActionConfigured)+cs.Count(apply.ActionRecreated)+cs.Count(apply.ActionPruned) > 0
	if changed || !alreadyApplied {
		r.log.Info("applied", "env", env.Name, "commit", a.ShortCommit, "trigger", a.Trigger, "changes", cs.Summary(), "took", time.Since(started).Round(time.Millisecond))
		r.event(env.Name, corev1.EventTypeNormal, "CommitApplied", fmt.Sprintf("commit %s applied: %s", a.ShortCommit, cs.Summary()))
	}

	if changed || !alreadyApplied {
		// Record the apply now: the health wait may last HealthTimeout, meanwhile the status
		// must name the commit that runs, and an agent killed during the wait must not lose
		// the record (its restart would see an unchanged cluster and an old status).
		a.Health, a.FinishedAt = HealthProgressing, metav1.Now()
		st.Health, st.HealthMessage = HealthProgressing, "waiting for the applied objects to become ready"
		r.record(a)
	}
	r.startHealthWait(ctx, a, current)
	return r.status.Save(ctx, st)
}

// fail records an attempt that could not complete; the error is returned for a retry.
func (r *Reconciler) fail(ctx context.Context, a *attempt, err error, started time.Time) error {
	if err != nil {
		a.Result, a.Message = ResultFailed, err.Error()
	}
	a.FinishedAt = metav1.Now()
	r.record(a)
	r.metrics.observeSync(a.env.env.Name, ResultFailed, time.Since(started))
	r.log.Error("sync failed", "env", a.env.env.Name, "commit", a.ShortCommit, "error", a.Message)
	r.event(a.env.env.Name, corev1.EventTypeWarning, "SyncFailed", fmt.Sprintf("commit %s: %s", a.ShortCommit, a.Message))
	if saveErr := r.status.Save(ctx, a.env.status); saveErr != nil {
		r.log.Error("record failed sync", "env", a.env.env.Name, "error", saveErr)
	}
	return err
}

// record makes a the last attempt and the newest history entry, unless it says nothing new: a
// resync with the same outcome as the last attempt leaves the status as it was, so it costs no
// write. It reports whether a was recorded.
func (r *Reconciler) record(a *attempt) bool {
	st := a.env.status
	if st.LastAttempt == &a.Attempt && len(st.History) > 0 {
		// Recorded before its health wait: the history entry, a copy, takes the verdict.
		st.History[0] = a.Attempt
		return true
	}
	if st.LastAttempt != nil && st.LastAttempt.sameOutcome(a.Attempt) {
		return false
	}
	st.LastAttempt = &a.Attempt
	st.History = append([]Attempt{a.Attempt}, st.History...)
	if len(st.History) > r.opts.HistoryLimit {
		st.History = st.History[:r.opts.HistoryLimit]
	}
	return true
}

// sameOutcome reports whether two attempts say the same thing to a reader of the status: the
// same commit with the same result, message and health, and no change made by the second.
func (a *Attempt) sameOutcome(b Attempt) bool {
	return a.Commit == b.Commit && a.Result == b.Result && a.Message == b.Message && a.Health == b.Health &&
		b.Changes["created"]+b.Changes["configured"]+b.Changes["recreated"]+b.Changes["pruned"] == 0
}

func (r *Reconciler) event(env, eventType, reason, message string) {
	ref, ok := r.status.ObjectReference(env)
	if !ok || r.events == nil {
		return
	}
	r.events.Event(ref, eventType, reason, message)
}

// violationSummary names the first blocking findings by rule and object, for a one-line
// message; the status lists them in full.
func violationSummary(vs []Violation) string {
	const shown = 3
	parts := make([]string, 0, shown+1)
	for i, v := range vs {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(vs)-shown))
			break
		}
		parts = append(parts, v.Rule+" on "+v.Object)
	}
	return strings.Join(parts, ", ")
}

// summarize counts findings by severity and lists the blocking ones for the status.
func summarize(findings []policy.Finding) (map[string]int, []Violation) {
	counts := map[string]int{}
	var violations []Violation
	for _, f := range findings {
		switch {
		case f.Exempted != "":
			counts["exempted"]++
		case f.Severity == policy.Deny:
			counts["deny"]++
			if len(violations) < maxViolations {
				violations = append(violations, Violation{Rule: f.Rule, Object: f.Object.String(), Source: f.Source, Field: f.Field, Message: f.Message})
			}
		default:
			counts["warn"]++
		}
	}
	if len(counts) == 0 {
		counts = nil
	}
	return counts, violations
}
