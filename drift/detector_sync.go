package drift

import (
	"context"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// processNext handles one queued object; false means the queue shut down.
func (d *Detector) processNext(ctx context.Context) bool {
	k, shutdown := d.queue.Get()
	if shutdown {
		return false
	}
	defer d.queue.Done(k)
	if after := d.sync(ctx, k); after > 0 {
		d.queue.AddAfter(k, after)
	}
	d.queue.Forget(k)
	return true
}

// job is the comparison of one object for one environment.
type job struct {
	st  *envState
	gen uint64
	// desired is nil for an object the environment does not declare (an orphan candidate).
	desired *desiredObject
	ignore  []IgnoreRule
	result  comparison
	orphan  bool
}

// sync compares the object k names for every environment it concerns and records the result.
// It returns when to look at the object again, 0 for never.
func (d *Detector) sync(ctx context.Context, k objectKey) time.Duration {
	d.mu.Lock()
	w := d.watches[k.watchKey()]
	if w == nil || !w.synced.Load() {
		// The informer's sync queues every desired object of the resource.
		d.mu.Unlock()
		return 0
	}
	var cached *cachedObject
	if obj, exists, err := w.informer.GetIndexer().GetByKey(k.cacheKey()); err == nil && exists {
		cached, _ = obj.(*cachedObject)
	}
	id := k.ident()
	liveEnv := ""
	if cached != nil {
		liveEnv = cached.Labels[apply.LabelEnvironment]
	}
	var jobs []*job
	for _, st := range d.envs {
		if st.paused {
			continue
		}
		o := st.desired[id]
		switch {
		case o != nil && o.key.gvr == k.gvr:
			jobs = append(jobs, &job{st: st, gen: st.gen, desired: o, ignore: st.ignore})
		case o != nil:
			// Declared in another version: that version's informer compares it.
		case cached != nil && liveEnv == st.name && !st.kept(cached.Labels):
			jobs = append(jobs, &job{st: st, gen: st.gen, orphan: true})
		case st.drifts[id] != nil:
			// Neither declared nor labelled for the environment any more: no drift left.
			jobs = append(jobs, &job{st: st, gen: st.gen})
		}
	}
	d.mu.Unlock()

	if len(jobs) == 0 {
		return 0
	}
	// Compare without the lock: cached and desired objects are immutable once stored.
	var live *unstructured.Unstructured
	if cached != nil {
		var err error
		if live, err = cached.object(); err != nil {
			d.opts.Log.Error("drift: cannot compare", "object", k.cacheKey(), "resource", k.gvr.String(), "error", err)
			return 0
		}
	}
	for _, j := range jobs {
		switch {
		case j.desired != nil:
			desired, err := j.desired.object()
			if err != nil {
				d.opts.Log.Error("drift: cannot compare", "env", j.st.name, "object", j.desired.ref.String(), "error", err)
				j.st = nil
				continue
			}
			j.result = compare(desired, live, j.ignore)
		case j.orphan:
			j.result = orphanOf(live)
		}
	}

	var after time.Duration
	var heals []healJob
	var changed []string
	var notes []note
	d.mu.Lock()
	for _, j := range jobs {
		if j.st == nil || d.envs[j.st.name] != j.st || j.st.gen != j.gen || j.st.paused {
			// SetDesired or Pause ran meanwhile; SetDesired and Resume queue the object again.
			continue
		}
		out := d.record(j, k)
		if out.changed {
			changed = append(changed, j.st.name)
		}
		notes = append(notes, out.notes...)
		if out.heal != nil {
			heals = append(heals, *out.heal)
		}
		after = minPositive(after, out.after)
	}
	d.mu.Unlock()

	d.notify(notes)
	for _, env := range slices.Compact(changed) {
		if d.opts.OnChange != nil {
			d.opts.OnChange(env)
		}
	}
	for _, h := range heals {
		after = minPositive(after, d.heal(ctx, h))
	}
	return after
}

// orphanOf is the drift of an object labelled for an environment that does not declare it.
func orphanOf(live *unstructured.Unstructured) comparison {
	c := comparison{drift: ObjectDrift{Ref: render.RefOf(live), Type: Orphan}}
	_, c.changedAt = ownershipOf(live).newest()
	if c.changedAt.IsZero() {
		c.changedAt = live.GetCreationTimestamp().Time
	}
	return c
}

// outcome is what recording a comparison asks the caller to do once the lock is released.
type outcome struct {
	changed bool
	notes   []note
	heal    *healJob
	after   time.Duration
}

// record stores a comparison in the environment's report, counts and describes what changed
// and decides on healing. d.mu must be held.
func (d *Detector) record(j *job, k objectKey) outcome {
	st, id, now := j.st, k.ident(), time.Now()
	old := st.drifts[id]
	nd := j.result.drift
	var out outcome
	h := st.heals[id]

	if !nd.Drifted() {
		if old != nil {
			delete(st.drifts, id)
			out.changed = true
			reason := reasonResolved
			if old.healed {
				reason = reasonHealed
			}
			out.notes = append(out.notes, note{env: st.name, reason: reason, drift: old.ObjectDrift})
			d.updateObjectGauge(st)
		}
		if h != nil {
			if h.inSyncSince.IsZero() {
				h.inSyncSince = now
			}
			if h.flapping {
				if wait := d.opts.FlapWindow - now.Sub(h.inSyncSince); wait > 0 {
					out.after = wait
				} else {
					d.metrics.flapping.Delete(h.labels)
					delete(st.heals, id)
				}
			}
		}
		return out
	}

	entry := &driftEntry{ObjectDrift: nd, key: k}
	entry.DetectedAt = now
	if old != nil {
		entry.DetectedAt = old.DetectedAt
		entry.healed = old.healed
	}
	entry.Flapping = h != nil && h.flapping
	isNew := old == nil || old.Type != nd.Type || !slices.Equal(old.Fields, nd.Fields)
	if isNew {
		d.metrics.events.WithLabelValues(st.name, nd.Ref.Kind, nd.Type.metricLabel()).Inc()
		changedAt := j.result.changedAt
		if changedAt.IsZero() {
			changedAt = now
		}
		// An orphan is made by a commit, not by a live change: it has no detection latency.
		if nd.Type != Orphan {
			d.metrics.detection.WithLabelValues(st.name).Observe(max(0, now.Sub(changedAt).Seconds()))
		}
		out.notes = append(out.notes, note{env: st.name, reason: reasonDetected, drift: nd, commit: st.commit})
	}
	out.changed = isNew || old.Flapping != entry.Flapping || old.Manager != entry.Manager
	st.drifts[id] = entry
	if old == nil || old.Ref.Kind != nd.Ref.Kind {
		d.updateObjectGauge(st)
	}

	if st.spec.SelfHeal && nd.Type.Heals() && j.desired != nil {
		hj, after, n := d.planHeal(st, id, entry, now)
		out.heal, out.after = hj, after
		if n != nil {
			out.notes = append(out.notes, *n)
			out.changed = true
		}
	}
	return out
}

// updateObjectGauge sets gitops_agent_drift_objects for every kind of env. d.mu must be held.
func (d *Detector) updateObjectGauge(st *envState) {
	for kind, n := range st.kindCounts() {
		d.metrics.objects.WithLabelValues(st.name, kind).Set(float64(n))
	}
}

// minPositive returns the smaller of two delays, ignoring zeros.
func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}
