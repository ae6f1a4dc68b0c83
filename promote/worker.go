package promote

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// envWorker is one environment's worker and what the Promoter's callers ask of it.
type envWorker struct {
	cfg  EnvConfig
	wake chan struct{}

	// Guarded by Promoter.mu.
	state    State
	loaded   bool
	confirm  bool
	rollback bool
	tags     map[string]string // the tags that request this environment
	op       *operation        // the operation running, if any

	failures  int       // operations failed in a row
	notBefore time.Time // no operation starts before, after a failure

	// rv is the state ConfigMap's resource version, touched only by the worker and its one
	// operation at a time.
	rv string
}

// poke wakes the worker without blocking.
func (e *envWorker) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// operation is work a worker runs in the background, one at a time per environment.
type operation struct {
	name string
	// req is the request a promotion works on; a newer one cancels it while cancellable.
	req         Request
	cancellable bool
	cancel      context.CancelCauseFunc
}

// supersededError is the cause of a promotion cancelled by a newer request.
type supersededError struct{ by Request }

func (e *supersededError) Error() string {
	return fmt.Sprintf("superseded by tag %s (commit %s)", e.by.Tag, shortCommit(e.by.Commit))
}

// work is an environment's worker: it decides what to do whenever something happens, runs
// it in the background and waits for the next event.
func (p *Promoter) work(ctx context.Context, e *envWorker) {
	var ops sync.WaitGroup
	defer ops.Wait()
	p.mu.Lock()
	e.loaded, e.op, e.confirm, e.rollback = false, nil, false, false
	p.mu.Unlock()
	for {
		next := p.decide(ctx, e, &ops)
		var timer *time.Timer
		var fired <-chan time.Time
		if next > 0 {
			timer = time.NewTimer(next)
			fired = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-fired:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// errorBackoff returns how long to wait after failures operations failed in a row.
func errorBackoff(failures int) time.Duration {
	d := time.Second << min(failures-1, 6)
	return min(d, time.Minute)
}

// decide starts what env needs next, if nothing runs, and returns when to look again (0:
// only when woken).
func (p *Promoter) decide(ctx context.Context, e *envWorker, ops *sync.WaitGroup) time.Duration {
	if !p.isLoaded(e) {
		if err := p.load(ctx, e); err != nil {
			p.log.Error("load promotion state", "env", e.cfg.Name, "error", err)
			p.mu.Lock()
			defer p.mu.Unlock()
			e.failures++
			return errorBackoff(e.failures)
		}
	}
	p.mu.Lock()
	st := e.state.clone()
	op, confirm, rollback := e.op, e.confirm, e.rollback
	cancellable := op != nil && op.cancellable
	tags, notBefore := e.tags, e.notBefore
	p.mu.Unlock()

	want, wantOK := p.wanted(e.cfg.Name, tags)
	unhandled := wantOK && !st.handled(want)
	if op != nil {
		if unhandled && cancellable && op.req != want {
			op.cancel(&supersededError{by: want})
		}
		return 0
	}
	if confirm && st.Phase != PhaseAwaitingApproval {
		// The promotion it confirmed was superseded or aborted: a later one needs its own.
		p.clearRequests(e, true, false)
	}
	now := time.Now()
	if now.Before(notBefore) {
		return notBefore.Sub(now)
	}
	start := func(name string, req Request, cancellable bool, run func(opCtx context.Context) error) time.Duration {
		p.start(ctx, e, ops, &operation{name: name, req: req, cancellable: cancellable}, run)
		return 0
	}
	switch {
	case st.Current != nil && (st.Phase.beforeSwitch() || st.Current.AbortReason != ""):
		return start(opRecover, st.Current.Request, false, func(context.Context) error { return p.recoverAttempt(ctx, e) })
	case st.Current != nil && st.Phase == PhaseSwitching:
		return start(opResumeSwitch, st.Current.Request, false, func(context.Context) error { return p.resumeSwitch(ctx, e) })
	case st.Phase == PhaseAwaitingApproval && unhandled:
		p.clearRequests(e, true, false)
		reason := (&supersededError{by: want}).Error()
		return start(opAbort, st.Current.Request, false, func(context.Context) error {
			return p.abort(ctx, e, ResultSuperseded, reason)
		})
	case st.Phase == PhaseAwaitingApproval && confirm:
		p.clearRequests(e, true, false)
		return start(opSwitch, st.Current.Request, false, func(context.Context) error { return p.confirmSwitch(ctx, e) })
	case rollback:
		p.clearRequests(e, false, true)
		return start(opRollback, Request{}, true, func(opCtx context.Context) error { return p.rollbackTo(ctx, opCtx, e) })
	case unhandled:
		return start(opPromote, want, true, func(opCtx context.Context) error {
			return p.promote(ctx, opCtx, e, want, kindPromotion)
		})
	case !st.RollbackUntil.IsZero() && st.Live != nil && st.Current == nil:
		if wait := st.RollbackUntil.Sub(now); wait > 0 {
			return wait
		}
		return start(opRetire, Request{}, false, func(context.Context) error { return p.retire(ctx, e) })
	}
	return 0
}

// Operation names, for logs.
const (
	opRecover      = "recover"
	opResumeSwitch = "resume-switch"
	opAbort        = "abort"
	opSwitch       = "switch"
	opRollback     = "rollback"
	opPromote      = "promote"
	opRetire       = "retire"
)

func (p *Promoter) clearRequests(e *envWorker, confirm, rollback bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if confirm {
		e.confirm = false
	}
	if rollback {
		e.rollback = false
	}
}

// start runs op in the background; the worker is woken when it ends.
func (p *Promoter) start(ctx context.Context, e *envWorker, ops *sync.WaitGroup, op *operation, run func(opCtx context.Context) error) {
	opCtx, cancel := context.WithCancelCause(ctx)
	op.cancel = cancel
	p.mu.Lock()
	e.op = op
	p.mu.Unlock()
	ops.Go(func() {
		defer cancel(nil)
		err := run(opCtx)
		p.mu.Lock()
		switch {
		case ctx.Err() != nil:
			// Stopped by the end of Run: the recorded state tells the next Run what to do.
		case err != nil:
			e.failures++
			e.notBefore = time.Now().Add(errorBackoff(e.failures))
			p.log.Error("promotion step failed; will retry", "env", e.cfg.Name, "operation", op.name, "error", err, "retryIn", errorBackoff(e.failures))
		default:
			e.failures, e.notBefore = 0, time.Time{}
		}
		e.op = nil
		p.mu.Unlock()
		e.poke()
	})
}

// notCancellable marks the running operation as past the point where a newer request may
// cancel it; it reports false when one already did.
func (p *Promoter) notCancellable(e *envWorker, opCtx context.Context) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.op != nil {
		e.op.cancellable = false
	}
	return opCtx.Err() == nil
}

func (p *Promoter) isLoaded(e *envWorker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return e.loaded
}

func (p *Promoter) load(ctx context.Context, e *envWorker) error {
	st, rv, err := p.store.load(ctx, e.cfg.Name)
	if err != nil {
		return err
	}
	p.mu.Lock()
	e.state, e.loaded, e.failures = st, true, 0
	p.mu.Unlock()
	e.rv = rv
	p.metrics.observeState(&st)
	if p.opts.OnChange != nil {
		p.opts.OnChange(e.cfg.Name)
	}
	return nil
}

// wanted returns env's newest promotion request among tags.
func (p *Promoter) wanted(env string, tags map[string]string) (Request, bool) {
	if len(tags) == 0 {
		return Request{}, false
	}
	repo, err := p.repo.Open()
	if err != nil {
		p.log.Error("read promotion tags", "env", env, "error", err)
		return Request{}, false
	}
	req, ok, skipped := wanted(env, tags, func(commit string) (time.Time, error) {
		c, err := repo.CommitObject(plumbing.NewHash(commit))
		if err != nil {
			return time.Time{}, err
		}
		return c.Committer.When, nil
	})
	for _, err := range skipped {
		p.log.Warn("promotion tag ignored", "env", env, "error", err)
	}
	return req, ok
}

// snapshot returns a copy of e's state.
func (p *Promoter) snapshot(e *envWorker) State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return e.state.clone()
}

// update changes e's state and saves it; the state ConfigMap is written before each step, so
// that a restart knows where the promotion stood.
func (p *Promoter) update(ctx context.Context, e *envWorker, change func(*State)) error {
	p.mu.Lock()
	change(&e.state)
	st := e.state.clone()
	p.mu.Unlock()
	rv, err := p.store.save(ctx, st, e.rv)
	if err != nil {
		return err
	}
	e.rv = rv
	p.metrics.observeState(&st)
	if p.opts.OnChange != nil {
		p.opts.OnChange(e.cfg.Name)
	}
	return nil
}

func (p *Promoter) event(env, eventType, reason, message string) {
	if p.opts.Events == nil || p.opts.EventTarget == nil {
		return
	}
	if ref, ok := p.opts.EventTarget(env); ok {
		p.opts.Events.Event(ref, eventType, reason, message)
	}
}
