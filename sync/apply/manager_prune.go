package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-agent/gitops-agent/render"
)

// Prune deletes the objects refs names, which the environment opts.Env no longer declares.
// An object is deleted only if its live labels say gitops-agent applied it for opts.Env, and
// not if it carries the annotation gitops-agent.io/prune: disabled; anything else is skipped
// with the reason. Namespaces go after every other object, and CRDs last, since deleting
// either deletes what it contains; one that still holds an object Prune kept is skipped.
// Deletion uses background propagation and does not wait for the object to be gone.
//
// The change set is always complete; the error joins its failed entries' errors, or reports
// invalid options.
func (m *Manager) Prune(ctx context.Context, refs []render.Ref, opts PruneOptions) (ChangeSet, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return ChangeSet{}, err
	}
	var objects, namespaces, crds []render.Ref
	seen := map[render.Ref]bool{}
	for _, r := range refs {
		if seen[key(r)] {
			continue
		}
		seen[key(r)] = true
		switch gk := r.GroupKind(); {
		case isCRD(gk):
			crds = append(crds, r)
		case isNamespace(gk):
			namespaces = append(namespaces, r)
		default:
			objects = append(objects, r)
		}
	}

	var cs ChangeSet
	k := &keptObjects{}
	for _, group := range [][]render.Ref{objects, namespaces, crds} {
		slices.SortFunc(group, compareRefs)
		entries := make([]Entry, len(group))
		forEach(len(group), opts.Concurrency, func(i int) {
			entries[i] = m.pruneOne(ctx, group[i], opts, k)
		})
		cs.Entries = append(cs.Entries, entries...)
	}
	return cs, cs.Err()
}

// keptObjects remembers the objects Prune left in place, so that it does not delete the
// Namespace or CRD that holds them.
type keptObjects struct {
	mu   sync.Mutex
	refs []render.Ref
}

func (k *keptObjects) add(r render.Ref) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refs = append(k.refs, r)
}

// holding returns the kept objects that deleting live would delete with it.
func (k *keptObjects) holding(live *unstructured.Unstructured) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	gk := live.GroupVersionKind().GroupKind()
	var inside func(render.Ref) bool
	switch {
	case isNamespace(gk):
		inside = func(r render.Ref) bool { return r.Namespace == live.GetName() }
	case isCRD(gk):
		group, _, _ := unstructured.NestedString(live.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(live.Object, "spec", "names", "kind")
		inside = func(r render.Ref) bool { return r.Group == group && r.Kind == kind }
	default:
		return nil
	}
	var out []string
	for _, r := range k.refs {
		if inside(r) {
			out = append(out, r.String())
		}
	}
	slices.Sort(out)
	return out
}

func (m *Manager) pruneOne(ctx context.Context, ref render.Ref, opts PruneOptions, kept *keptObjects) Entry {
	fail := func(what string, err error) Entry {
		return Entry{Ref: ref, Action: ActionFailed, Err: fmt.Errorf("%s: %s: %w", ref, what, err)}
	}
	skip := func(reason string) Entry { return Entry{Ref: ref, Action: ActionSkipped, Reason: reason} }

	mapping, err := m.pruneMapping(ctx, ref)
	if meta.IsNoMatchError(err) {
		return skip("the cluster no longer serves this kind, so no such object exists")
	}
	if err != nil {
		return fail("prune", err)
	}
	ri := m.resource(mapping, ref.Namespace)
	live, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return skip("not found in the cluster")
	}
	if err != nil {
		return fail("read live object", err)
	}
	if reason := keepReason(live, opts.Env); reason != "" {
		kept.add(ref)
		return skip(reason)
	}
	if held := kept.holding(live); len(held) > 0 {
		return skip("deleting it would delete objects that are kept: " + strings.Join(held, ", "))
	}
	if live.GetDeletionTimestamp() != nil {
		return Entry{Ref: ref, Action: ActionPruned, Reason: "already being deleted"}
	}
	uid := live.GetUID()
	err = ri.Delete(ctx, ref.Name, metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &uid},
		PropagationPolicy: new(metav1.DeletePropagationBackground),
	})
	switch {
	case apierrors.IsNotFound(err):
		return skip("already deleted")
	case apierrors.IsConflict(err):
		// The UID precondition failed: the object was deleted and created anew since it was
		// read; that new object is not the one the inventory recorded.
		return skip("replaced by a new object while pruning; left in place")
	case err != nil:
		return fail("delete", err)
	}
	m.verified.forget(key(ref))
	return Entry{Ref: ref, Action: ActionPruned}
}

// pruneMapping maps ref with its recorded version, or with any version the cluster still
// serves for its kind: the object outlives a version removed from the API.
func (m *Manager) pruneMapping(ctx context.Context, ref render.Ref) (*meta.RESTMapping, error) {
	gvk := schema.GroupVersionKind{Group: ref.Group, Version: ref.Version, Kind: ref.Kind}
	if ref.Version != "" {
		mp, err := m.mapping(ctx, gvk)
		if !meta.IsNoMatchError(err) {
			return mp, err
		}
	}
	mp, err := m.mapper.RESTMappingWithContext(ctx, ref.GroupKind())
	if err != nil && !meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("map %s to an API resource: %w", ref.GroupKind(), err)
	}
	return mp, err
}

// keepReason says why live must not be pruned for env, or "" when it may be.
func keepReason(live *unstructured.Unstructured, env string) string {
	labels := live.GetLabels()
	switch {
	case labels[LabelManagedBy] != ManagedByValue:
		return fmt.Sprintf("not labelled %s=%s: gitops-agent deletes only objects it applied", LabelManagedBy, ManagedByValue)
	case labels[LabelEnvironment] != env:
		return fmt.Sprintf("labelled %s=%q, not %q: it belongs to another environment", LabelEnvironment, labels[LabelEnvironment], env)
	case live.GetAnnotations()[AnnotationPrune] == PruneDisabled:
		return fmt.Sprintf("annotated %s: %s", AnnotationPrune, PruneDisabled)
	}
	return ""
}
