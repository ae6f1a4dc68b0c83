package drift

import (
	"context"
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// healJob is one re-apply, run after the lock is released.
type healJob struct {
	env     string
	st      *envState
	id      ident
	desired *desiredObject
	drift   ObjectDrift
}

// planHeal decides whether to re-apply a drifted object now, later or no more. It returns the
// heal to run, when to look again, and a note when healing stops. The backoff also covers
// the moment between a heal's write and the informer's view of it, when the drift it fixed
// is still what the cache shows. d.mu must be held.
func (d *Detector) planHeal(st *envState, id ident, e *driftEntry, now time.Time) (*healJob, time.Duration, *note) {
	h := st.heals[id]
	if h == nil {
		h = &healState{}
		st.heals[id] = h
	}
	h.inSyncSince = time.Time{}
	if h.flapping {
		return nil, 0, nil
	}
	n := h.recent(now, d.opts.FlapWindow)
	if n >= d.opts.FlapThreshold {
		h.flapping = true
		h.labels = map[string]string{"env": st.name, "kind": e.Ref.Kind, "namespace": e.Ref.Namespace, "name": e.Ref.Name, "manager": e.Manager}
		d.metrics.flapping.With(h.labels).Set(1)
		e.Flapping = true
		return nil, 0, &note{env: st.name, reason: reasonHealStopped, drift: e.ObjectDrift, heals: n, window: d.opts.FlapWindow}
	}
	if wait := h.next.Sub(now); wait > 0 {
		return nil, wait, nil
	}
	h.heals = append(h.heals, now)
	h.next = now.Add(healBackoff(d.opts.HealBackoff, len(h.heals)+h.failures))
	return &healJob{env: st.name, st: st, id: id, desired: st.desired[id], drift: e.ObjectDrift}, 0, nil
}

// healBackoff is the delay after the n-th heal within the flap window.
func healBackoff(first time.Duration, n int) time.Duration {
	b := first
	for i := 1; i < n && b < maxHealBackoff; i++ {
		b *= 2
	}
	return min(b, maxHealBackoff)
}

// heal re-applies one object and returns when to look at it again.
func (d *Detector) heal(ctx context.Context, h healJob) time.Duration {
	var cs apply.ChangeSet
	obj, err := h.desired.object()
	switch {
	case err != nil:
	case d.applier == nil:
		err = errors.New("self-heal is on but the detector was created without an applier")
	default:
		cs, err = d.applier.Apply(ctx, []*unstructured.Unstructured{obj}, apply.DefaultApplyOptions(h.env))
	}
	result := healResultHealed
	if err != nil {
		result = healResultFailed
	}
	d.metrics.heals.WithLabelValues(h.env, result).Inc()

	// Look again once the backoff allows another heal: a heal that wrote nothing (the
	// applier saw no difference, as with a conflict over ownership alone) changes nothing
	// the informer would report.
	d.mu.Lock()
	var next time.Duration
	if st := d.envs[h.env]; st == h.st {
		if hs := st.heals[h.id]; hs != nil {
			if err != nil {
				// A failure is no sign of another writer: it backs off without counting
				// towards flapping.
				hs.heals = hs.heals[:max(0, len(hs.heals)-1)]
				hs.failures++
				hs.next = time.Now().Add(healBackoff(d.opts.HealBackoff, len(hs.heals)+hs.failures))
			} else {
				hs.failures = 0
			}
			next = max(time.Millisecond, time.Until(hs.next))
		}
		if e := st.drifts[h.id]; e != nil && err == nil {
			e.healed = true
		}
	}
	d.mu.Unlock()

	if err != nil {
		d.notify([]note{{env: h.env, reason: reasonHealFailed, drift: h.drift, err: err}})
		return next
	}
	d.opts.Log.Info("drift: healed by re-applying", "env", h.env, "object", h.drift.Ref.String(), "type", string(h.drift.Type), "action", actions(cs))
	return next
}

func actions(cs apply.ChangeSet) string {
	if len(cs.Entries) == 0 {
		return ""
	}
	return string(cs.Entries[0].Action)
}
