package drift

import (
	"bytes"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// ownership is who owns which fields of a live object, from its managedFields.
type ownership struct {
	// agent is the set the agent's server-side apply owns; nil when the object has no entry of
	// the agent.
	agent *fieldpath.Set
	// others are every other manager's entries, newest first.
	others []owner
	// known is false when the object carries no managedFields at all: ownership cannot be
	// judged and no field is reported as a conflict.
	known bool
}

type owner struct {
	manager string
	time    time.Time
	set     *fieldpath.Set
	// applied is true for a server-side apply, false for an update (kubectl edit, patch).
	applied bool
}

// ownershipOf parses live's managedFields. Entries of the status subresource are skipped: the
// comparison never looks at the status.
func ownershipOf(live *unstructured.Unstructured) ownership {
	entries := live.GetManagedFields()
	o := ownership{known: len(entries) > 0}
	for _, e := range entries {
		if e.Subresource == "status" || e.FieldsV1 == nil {
			continue
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
			continue
		}
		if e.Manager == apply.FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			o.agent = set
			continue
		}
		var t time.Time
		if e.Time != nil {
			t = e.Time.Time
		}
		o.others = append(o.others, owner{manager: e.Manager, time: t, set: set, applied: e.Operation == metav1.ManagedFieldsOperationApply})
	}
	slices.SortStableFunc(o.others, func(a, b owner) int { return b.time.Compare(a.time) })
	return o
}

// agentOwns reports whether the agent still owns the field at p.
func (o ownership) agentOwns(p fieldpath.Path) bool {
	return o.agent != nil && owns(o.agent, p)
}

// ownerOf returns the most recent other manager that owns the field at p, and when it wrote.
func (o ownership) ownerOf(p fieldpath.Path) (string, time.Time, bool) {
	for _, e := range o.others {
		if owns(e.set, p) {
			return e.manager, e.time, true
		}
	}
	return "", time.Time{}, false
}

// applierOf returns the most recent other manager that owns the field at p through a
// server-side apply: one that declared it wants the field, as opposed to an update that
// happened to write it.
func (o ownership) applierOf(p fieldpath.Path) (string, time.Time, bool) {
	for _, e := range o.others {
		if e.applied && owns(e.set, p) {
			return e.manager, e.time, true
		}
	}
	return "", time.Time{}, false
}

// newest returns the most recent write of another manager, the best guess of when a change
// that left no owner (a removed field) happened.
func (o ownership) newest() (string, time.Time) {
	if len(o.others) == 0 {
		return "", time.Time{}
	}
	return o.others[0].manager, o.others[0].time
}

// owns reports whether set owns the field at p: either p itself, or a prefix of p that set
// owns whole (an atomic list or map has no children in the set).
func owns(set *fieldpath.Set, p fieldpath.Path) bool {
	cur := set
	for i, pe := range p {
		if i == len(p)-1 {
			return cur.Members.Has(pe) || hasChild(cur, pe)
		}
		child, ok := cur.Children.Get(pe)
		if !ok {
			return cur.Members.Has(pe)
		}
		cur = child
	}
	return false
}

// hasChild reports whether set owns something below pe, which for a leaf of the desired
// object (an empty map, say) means it owns the leaf.
func hasChild(set *fieldpath.Set, pe fieldpath.PathElement) bool {
	child, ok := set.Children.Get(pe)
	return ok && !child.Empty()
}
