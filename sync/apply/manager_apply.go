package apply

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-agent/gitops-agent/render"
)

// Apply server-side applies objs as the objects of opts.Env, stage by stage (see Stages), and
// returns one entry per object. An object whose desired state the cluster already has is not
// written. A failed object does not stop the others of its stage, but it stops the stages
// after it: their objects are skipped. objs are not modified.
//
// The change set is always complete; the error joins its failed entries' errors, or reports
// invalid options.
func (m *Manager) Apply(ctx context.Context, objs []*unstructured.Unstructured, opts ApplyOptions) (ChangeSet, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return ChangeSet{}, err
	}
	byStage, pending := plan(objs, opts.Env)

	var cs ChangeSet
	blocked := ""
	var fresh map[schema.GroupKind]bool
	for _, stage := range Stages() {
		if stage == StageClusterScoped {
			// Only now are the custom kinds among the pending objects served.
			if blocked == "" {
				m.mapTargets(ctx, pending, fresh, opts)
			}
			for _, t := range pending {
				s := t.stage()
				if t.mapping == nil && t.obj.GetNamespace() != "" {
					s = StageNamespaced
				}
				byStage[s] = append(byStage[s], t)
			}
		}
		ts := byStage[stage]
		sortTargets(ts)
		if blocked != "" {
			for _, t := range ts {
				cs.Entries = append(cs.Entries, Entry{Ref: t.ref, Action: ActionSkipped, Reason: blocked})
			}
			continue
		}
		if stage == StageCRDs || stage == StageNamespaces {
			m.mapTargets(ctx, ts, nil, opts)
		}
		entries, results := m.applyStage(ctx, ts, opts)
		if stage == StageCRDs {
			fresh = m.establish(ctx, ts, entries, results, opts)
		}
		cs.Entries = append(cs.Entries, entries...)
		if n := (ChangeSet{Entries: entries}).Count(ActionFailed); n > 0 {
			blocked = fmt.Sprintf("not applied because %d of %d %s failed", n, len(entries), stage)
		}
	}
	return cs, cs.Err()
}

// plan copies objs into targets: CRDs and Namespaces by stage, every other object pending
// until the CRDs are in place and its kind's scope can be looked up. Objects declared more
// than once fail, every copy of them: which one should win is not for Apply to guess.
func plan(objs []*unstructured.Unstructured, env string) (map[Stage][]*target, []*target) {
	byStage := map[Stage][]*target{}
	var pending []*target
	count := map[render.Ref]int{}
	all := make([]*target, 0, len(objs))
	for _, obj := range objs {
		t := newTarget(obj, env)
		count[t.key()]++
		all = append(all, t)
	}
	for _, t := range all {
		switch {
		case count[t.key()] > 1:
			t.err = fmt.Errorf("declared %d times: an object must be declared once per environment", count[t.key()])
		case t.ref.Kind == "" || t.ref.Version == "":
			t.err = errors.New("no apiVersion or kind")
		case t.ref.Name == "":
			t.err = errors.New("no metadata.name")
		}
		gk := t.ref.GroupKind()
		switch {
		case isCRD(gk):
			byStage[StageCRDs] = append(byStage[StageCRDs], t)
		case isNamespace(gk):
			byStage[StageNamespaces] = append(byStage[StageNamespaces], t)
		default:
			pending = append(pending, t)
		}
	}
	return byStage, pending
}

// applyStage applies the targets concurrently and returns their entries and, for applied
// targets, the object the cluster now holds.
func (m *Manager) applyStage(ctx context.Context, ts []*target, opts ApplyOptions) ([]Entry, []*unstructured.Unstructured) {
	entries := make([]Entry, len(ts))
	results := make([]*unstructured.Unstructured, len(ts))
	forEach(len(ts), opts.Concurrency, func(i int) {
		t := ts[i]
		if t.err != nil {
			entries[i] = Entry{Ref: t.ref, Action: ActionFailed, Err: fmt.Errorf("%s: %w", t.ref, t.redact.error(t.err))}
			return
		}
		entries[i], results[i] = m.applyOne(ctx, t, opts)
	})
	return entries, results
}

// applyOne reads the live object, then creates it, or, unless the live object is still at a
// state verified for the same desired object before, dry-runs the apply and writes only when
// the result differs from live. An unchanged object thus costs a GET (and a dry-run PATCH when
// it or its desired state changed since the last check), neither of which writes; a changed
// one adds the PATCH that does.
func (m *Manager) applyOne(ctx context.Context, t *target, opts ApplyOptions) (Entry, *unstructured.Unstructured) {
	entry, result := m.applyLive(ctx, t, opts)
	if entry.Action.Applied() {
		m.verified.record(t.key(), result, t.digest)
	} else {
		m.verified.forget(t.key())
	}
	return entry, result
}

func (m *Manager) applyLive(ctx context.Context, t *target, opts ApplyOptions) (Entry, *unstructured.Unstructured) {
	ri := m.resource(t.mapping, t.ref.Namespace)
	live, err := ri.Get(ctx, t.ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		out, err := ri.Apply(ctx, t.ref.Name, t.obj, applyOptions(opts, false))
		if err != nil {
			return t.fail("create", err), nil
		}
		return Entry{Ref: t.ref, Action: ActionCreated}, out
	}
	if err != nil {
		return t.fail("read live object", err), nil
	}
	if err := checkOwner(live, opts.Env); err != nil {
		return t.fail("refusing to apply", err), nil
	}
	if live.GetDeletionTimestamp() != nil {
		return t.fail("apply", errors.New("the live object is being deleted; it will be created again by a later sync once deletion completes")), nil
	}
	if m.verified.unchanged(t.key(), live, t.digest) {
		return Entry{Ref: t.ref, Action: ActionUnchanged}, live
	}

	dry, err := ri.Apply(ctx, t.ref.Name, t.obj, applyOptions(opts, true))
	if fields, why := immutableFields(err); len(fields) > 0 {
		if t.obj.GetAnnotations()[AnnotationRecreate] != "true" {
			return Entry{Ref: t.ref, Action: ActionFailed, Err: &ImmutableFieldError{Ref: t.ref, Fields: fields, Reasons: why, Err: t.redact.error(err)}}, nil
		}
		return m.recreate(ctx, t, ri, live, fields, opts)
	}
	if err != nil {
		return t.fail("apply (dry run)", conflictHint(err)), nil
	}
	if equivalent(live, dry, hasStatus(t.obj)) {
		return Entry{Ref: t.ref, Action: ActionUnchanged}, live
	}
	out, err := ri.Apply(ctx, t.ref.Name, t.obj, applyOptions(opts, false))
	if err != nil {
		return t.fail("apply", conflictHint(err)), nil
	}
	return Entry{Ref: t.ref, Action: ActionConfigured}, out
}

func applyOptions(opts ApplyOptions, dryRun bool) metav1.ApplyOptions {
	o := metav1.ApplyOptions{FieldManager: FieldManager, Force: opts.Force}
	if dryRun {
		o.DryRun = []string{metav1.DryRunAll}
	}
	return o
}

// checkOwner refuses an object that another environment of this agent applied: two
// environments declaring one object would overwrite each other on every sync, and the prune
// of one would delete the other's object.
func checkOwner(live *unstructured.Unstructured, env string) error {
	labels := live.GetLabels()
	if labels[LabelManagedBy] != ManagedByValue {
		return nil
	}
	if owner := labels[LabelEnvironment]; owner != "" && owner != env {
		return fmt.Errorf("the object belongs to environment %q (label %s); an object can be declared by one environment only: remove it from one of them",
			owner, LabelEnvironment)
	}
	return nil
}

// conflictHint explains a field-manager conflict, which only happens when Force is off.
func conflictHint(err error) error {
	if apierrors.IsConflict(err) {
		return fmt.Errorf("%w (other field managers own these fields: remove them from the manifest, or apply with force)", err)
	}
	return err
}
