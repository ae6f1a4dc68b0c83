package apply

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

// establish waits until every applied CRD is Established, fails the entries of those that do
// not get there, refreshes discovery when a CRD changed, and returns the kinds the applied
// CRDs define.
func (m *Manager) establish(ctx context.Context, ts []*target, entries []Entry, results []*unstructured.Unstructured, opts ApplyOptions) map[schema.GroupKind]bool {
	kinds := map[schema.GroupKind]bool{}
	refresh := false
	for i, t := range ts {
		e := entries[i]
		if !e.Action.Applied() {
			continue
		}
		group, _, _ := unstructured.NestedString(t.obj.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(t.obj.Object, "spec", "names", "kind")
		kinds[schema.GroupKind{Group: group, Kind: kind}] = true
		if e.Action != ActionUnchanged {
			refresh = true
		}
		if ok, _ := crdEstablished(results[i]); ok {
			continue
		}
		refresh = true
		if err := m.waitEstablished(ctx, t, opts); err != nil {
			entries[i] = t.fail("wait until established", err)
		}
	}
	if refresh {
		m.refreshDiscovery(ctx, true)
	}
	return kinds
}

func (m *Manager) waitEstablished(ctx context.Context, t *target, opts ApplyOptions) error {
	ri := m.resource(t.mapping, "")
	var why error
	err := wait.PollUntilContextTimeout(ctx, opts.PollInterval, opts.WaitTimeout, true, func(ctx context.Context) (bool, error) {
		crd, err := ri.Get(ctx, t.ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		var ok bool
		ok, why = crdEstablished(crd)
		return ok, nil
	})
	if err != nil && wait.Interrupted(err) && ctx.Err() == nil {
		if why == nil {
			why = errors.New("no Established condition yet")
		}
		return fmt.Errorf("not Established after %s: %w", opts.WaitTimeout, why)
	}
	return err
}

// crdEstablished reports whether the CRD is Established and, when it is not, why.
func crdEstablished(crd *unstructured.Unstructured) (bool, error) {
	if crd == nil {
		return false, errors.New("not read yet")
	}
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	var why error
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		typ, _ := cm["type"].(string)
		status, _ := cm["status"].(string)
		reason, _ := cm["reason"].(string)
		msg, _ := cm["message"].(string)
		switch {
		case typ == "Established" && status == "True":
			return true, nil
		case typ == "NamesAccepted" && status == "False":
			why = fmt.Errorf("names not accepted: %s: %s", reason, msg)
		}
	}
	if why == nil {
		why = errors.New("Established condition not True")
	}
	return false, why
}
