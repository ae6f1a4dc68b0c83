package drift

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// SetDesired says what env looks like at commit: objs are the rendered objects, exactly what
// was given to Apply. Call it after every successful apply and at start-up after the first
// sync. Resources new to the detector get informers and resources no environment uses any
// more lose theirs; every object of env is compared again.
//
// An object that cannot be watched (its kind is not served, it has no name) and an invalid
// ignore rule are left out and reported in the error; the rest takes effect regardless.
// A new commit ends every stopped heal of env.
func (d *Detector) SetDesired(env string, spec EnvSpec, commit string, objs []*unstructured.Unstructured) error {
	rules, ruleErrs := envRules(spec, objs)
	var errs []error
	for _, err := range ruleErrs {
		errs = append(errs, fmt.Errorf("environment %s: %w", env, err))
	}
	desired := make(map[ident]*desiredObject, len(objs))
	for _, obj := range objs {
		if gvk := obj.GroupVersionKind(); gvk.Group == "" && gvk.Kind == "Namespace" {
			// Watching Namespaces takes a cluster-wide right the namespaced installation does
			// not have; a deleted namespace shows as the deletion of everything in it.
			continue
		}
		o, err := d.desiredObject(obj, env)
		if err != nil {
			errs = append(errs, fmt.Errorf("environment %s: %s: not watched for drift: %w", env, render.RefOf(obj), err))
			continue
		}
		id := o.key.ident()
		if _, dup := desired[id]; dup {
			errs = append(errs, fmt.Errorf("environment %s: %s: declared twice; watched once", env, o.ref))
			continue
		}
		desired[id] = o
	}

	d.mu.Lock()
	st, ok := d.envs[env]
	if !ok {
		st = newEnvState(env)
		d.envs[env] = st
	}
	commitChanged := st.commit != commit
	st.spec, st.commit, st.ignore, st.desired = spec, commit, rules, desired
	st.gen++
	if commitChanged {
		// A new commit is a new attempt: heals stopped against the old one start again.
		for id, h := range st.heals {
			if h.flapping {
				d.metrics.flapping.Delete(h.labels)
				if e := st.drifts[id]; e != nil {
					e.Flapping = false
				}
			}
		}
		st.heals = map[ident]*healState{}
	}
	if !st.paused {
		d.enqueueEnv(st)
	}
	d.mu.Unlock()
	d.wake()
	if commitChanged && d.opts.OnChange != nil {
		d.opts.OnChange(env)
	}
	return errors.Join(errs...)
}

// desiredObject returns the watched form of obj: the applied form, its resource and key.
func (d *Detector) desiredObject(obj *unstructured.Unstructured, env string) (*desiredObject, error) {
	applied, err := apply.AsApplied(obj, env)
	if err != nil {
		return nil, err
	}
	gvk := applied.GroupVersionKind()
	if gvk.Kind == "" || gvk.Version == "" || applied.GetName() == "" {
		return nil, errors.New("no apiVersion, kind or metadata.name")
	}
	mapping, err := d.mapping(gvk)
	if err != nil {
		return nil, err
	}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		// As Apply does: kustomize may set a namespace on a cluster-scoped custom resource.
		applied.SetNamespace("")
	} else if applied.GetNamespace() == "" {
		return nil, fmt.Errorf("%s is namespaced but the object has no metadata.namespace", gvk.Kind)
	}
	raw, err := applied.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode as JSON: %w", err)
	}
	key := objectKey{gvr: mapping.Resource, namespace: applied.GetNamespace(), name: applied.GetName()}
	return &desiredObject{raw: raw, key: key, ref: render.RefOf(applied)}, nil
}

// mapping returns the resource of gvk, resetting a resettable mapper once when the kind is
// unknown: the apply that preceded SetDesired may just have installed its CRD.
func (d *Detector) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := d.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		if r, ok := d.mapper.(meta.ResettableRESTMapper); ok {
			r.Reset()
			m, err = d.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("map %s to an API resource: %w", gvk, err)
	}
	return m, nil
}

// Forget stops tracking env: its report, metrics and, when no other environment uses them,
// its informers go.
func (d *Detector) Forget(env string) {
	d.mu.Lock()
	delete(d.envs, env)
	d.metrics.forget(env)
	d.mu.Unlock()
	d.wake()
}

// Pause stops comparing env's objects, so that the agent's own apply is neither reported nor
// healed while it runs. Changes seen meanwhile are compared on Resume.
func (d *Detector) Pause(env string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.envs[env]
	if !ok {
		st = newEnvState(env)
		d.envs[env] = st
	}
	st.paused = true
}

// Resume compares every object of env again.
func (d *Detector) Resume(env string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.envs[env]
	if !ok || !st.paused {
		return
	}
	st.paused = false
	d.enqueueEnv(st)
}

// enqueueEnv queues every object env's report depends on, the objects labelled for it
// included (they may be orphans). d.mu must be held.
func (d *Detector) enqueueEnv(st *envState) {
	for _, k := range st.keys() {
		d.queue.Add(k)
	}
	for wk, w := range d.watches {
		if !w.synced.Load() {
			continue
		}
		keys, err := w.informer.GetIndexer().IndexKeys(envIndex, st.name)
		if err != nil {
			continue
		}
		for _, ck := range keys {
			d.queue.Add(keyOf(wk.gvr, ck))
		}
	}
}
