package reconcile

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-agent/gitops-agent/health"
	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/inventory"
)

// healthWait is the wait for the objects of one apply to become ready. It runs in its own
// goroutine rather than in the worker that applied: a rollout's pace is set by other
// controllers (a Deployment is not ready before the controller manager has seen it), and
// workers held by such waits would make many environments apply at that pace. Its verdict is
// recorded by the next sync of the environment, which it enqueues.
type healthWait struct {
	attempt *attempt
	// lastAttempt is the status's last attempt when the wait began: the verdict amends the
	// history only if no later attempt was recorded since.
	lastAttempt *Attempt
	cancel      context.CancelFunc
	// done is closed once health and message hold the verdict.
	done            chan struct{}
	health, message string
}

// startHealthWait waits, in the background, for the objects of inv that a applied; a wait of an
// earlier apply of the environment is abandoned. The wait ends early when the branch head
// moves or ctx ends.
func (r *Reconciler) startHealthWait(ctx context.Context, a *attempt, inv *inventory.Inventory) {
	es := a.env
	if es.health != nil {
		es.health.cancel()
	}
	waitCtx, cancel := r.untilHeadMoves(ctx)
	hw := &healthWait{attempt: a, lastAttempt: es.status.LastAttempt, cancel: cancel, done: make(chan struct{})}
	es.health = hw
	refs := inventory.Refs(inv.IDs)
	go func() {
		defer cancel()
		hw.health, hw.message = r.judgeHealth(ctx, waitCtx, es.env, refs)
		close(hw.done)
		if r.notify != nil {
			r.notify(es.env.Name)
		}
	}()
}

// judgeHealth waits, within one of the health slots, until the objects are ready, one failed
// or the environment's health timeout passed, and returns the verdict.
func (r *Reconciler) judgeHealth(ctx, waitCtx context.Context, env Environment, refs []render.Ref) (string, string) {
	select {
	case r.healthSlots <- struct{}{}:
		defer func() { <-r.healthSlots }()
	case <-waitCtx.Done():
		return interrupted(ctx, waitCtx.Err())
	}
	report, err := env.Target.Health.Wait(waitCtx, refs, env.HealthTimeout)
	switch {
	case err != nil:
		return interrupted(ctx, err)
	case report.Aggregate == health.AggregateReady:
		return HealthReady, ""
	case report.Aggregate == health.AggregateFailed:
		return HealthFailed, report.Err().Error()
	default:
		return HealthFailed, fmt.Sprintf("not ready within %s: %v", env.HealthTimeout, report.Err())
	}
}

func interrupted(ctx context.Context, err error) (string, string) {
	if ctx.Err() == nil {
		return HealthProgressing, "a newer commit arrived before the objects became ready"
	}
	return HealthProgressing, "health check interrupted: " + err.Error()
}

// collectHealth records the verdict of the environment's finished health wait, if there is
// one, in its status (which the caller saves).
func (r *Reconciler) collectHealth(es *envState) {
	hw := es.health
	if hw == nil {
		return
	}
	select {
	case <-hw.done:
	default:
		return
	}
	es.health = nil
	st := es.status
	// The verdict is about the objects of the last apply, the commit that runs, even if a
	// later commit was refused meanwhile.
	st.Health, st.HealthMessage = hw.health, hw.message
	if st.Health == HealthFailed {
		r.log.Warn("environment unhealthy", "env", es.env.Name, "reason", st.HealthMessage)
		r.event(es.env.Name, corev1.EventTypeWarning, "Unhealthy", st.HealthMessage)
	}
	a := hw.attempt
	a.Health, a.FinishedAt = hw.health, metav1.Now()
	if st.LastAttempt == &a.Attempt || st.LastAttempt == hw.lastAttempt {
		r.record(a)
	} else {
		r.log.Debug("health verdict of an earlier attempt; history left as is", "env", es.env.Name, "commit", a.ShortCommit, "health", a.Health)
	}
}
