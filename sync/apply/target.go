package apply

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-agent/gitops-agent/render"
)

// target is one object on its way into the cluster.
type target struct {
	// obj is the copy Apply sends: agent labels set, server-owned metadata removed.
	obj     *unstructured.Unstructured
	ref     render.Ref
	mapping *meta.RESTMapping
	redact  redactor
	// digest fingerprints obj, for the verified-state cache.
	digest [sha256.Size]byte
	// err, when set, fails the object before any request.
	err error
}

// newTarget copies obj for applying it as part of env.
func newTarget(obj *unstructured.Unstructured, env string) *target {
	c := obj.DeepCopy()
	// The server fills these; sent back, resourceVersion would turn the apply into a
	// conditional update and managedFields would be refused.
	for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	labels := c.GetLabels() // a new map
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelManagedBy] = ManagedByValue
	labels[LabelEnvironment] = env
	c.SetLabels(labels)
	t := &target{obj: c, ref: render.RefOf(c), redact: newRedactor(c)}
	t.digest, t.err = digest(c)
	return t
}

// key identifies the object regardless of its API version.
func (t *target) key() render.Ref { return key(t.ref) }

// key returns ref without its version: one object is served under every version of its kind.
func key(ref render.Ref) render.Ref {
	ref.Version = ""
	return ref
}

// fail returns the failed entry for the step what.
func (t *target) fail(what string, err error) Entry {
	return Entry{Ref: t.ref, Action: ActionFailed, Err: fmt.Errorf("%s: %s: %w", t.ref, what, t.redact.error(err))}
}

// mapTo resolves the target's resource and settles its namespace against the kind's scope.
func (t *target) mapTo(mapping *meta.RESTMapping) {
	t.mapping = mapping
	namespaced := mapping.Scope.Name() == meta.RESTScopeNameNamespace
	switch {
	case namespaced && t.obj.GetNamespace() == "":
		t.err = fmt.Errorf("%s is namespaced but the object has no metadata.namespace: set it in the manifest or the kustomization", t.ref.Kind)
	case !namespaced && t.obj.GetNamespace() != "":
		// kustomize's namespace transformer sets a namespace on custom resources it cannot
		// know are cluster-scoped; the API server would refuse the request.
		t.obj.SetNamespace("")
		t.ref.Namespace = ""
	}
}

// stage returns the target's stage; mapTo must have run.
func (t *target) stage() Stage {
	return StageOf(t.ref.GroupKind(), t.mapping != nil && t.mapping.Scope.Name() == meta.RESTScopeNameNamespace)
}

// mapTargets maps every target that has no error yet. Kinds in fresh were defined by CRDs this
// Apply just installed: discovery may lag behind their Established condition, so a missing
// kind among them is looked up again until wait passes.
func (m *Manager) mapTargets(ctx context.Context, ts []*target, fresh map[schema.GroupKind]bool, opts ApplyOptions) {
	for _, t := range ts {
		if t.err != nil {
			continue
		}
		gvk := t.obj.GroupVersionKind()
		mapping, err := m.mapping(ctx, gvk)
		if err != nil && meta.IsNoMatchError(err) && fresh[gvk.GroupKind()] {
			mapping, err = m.awaitMapping(ctx, gvk, opts)
		}
		if err != nil {
			t.err = err
			continue
		}
		t.mapTo(mapping)
	}
}

// awaitMapping refreshes discovery until gvk is served or opts.WaitTimeout passes.
func (m *Manager) awaitMapping(ctx context.Context, gvk schema.GroupVersionKind, opts ApplyOptions) (*meta.RESTMapping, error) {
	deadline := time.Now().Add(opts.WaitTimeout)
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(opts.PollInterval):
		}
		m.refreshDiscovery(ctx, true)
		mapping, err := m.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
		if err == nil {
			return mapping, nil
		}
		if !meta.IsNoMatchError(err) || time.Now().After(deadline) {
			return nil, fmt.Errorf("the cluster still does not serve %s in %s %s after its CustomResourceDefinition was established: check that the CRD serves version %s: %w",
				gvk.Kind, gvk.GroupVersion(), opts.WaitTimeout, gvk.Version, err)
		}
	}
}

// AsApplied returns the copy of obj that Apply sends for env: the agent's labels set and the
// server-owned metadata removed. Drift detection compares the live object against it. The
// error reports an object that cannot be applied at all.
func AsApplied(obj *unstructured.Unstructured, env string) (*unstructured.Unstructured, error) {
	t := newTarget(obj, env)
	return t.obj, t.err
}
