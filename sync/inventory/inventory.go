package inventory

import (
	"cmp"
	"slices"

	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// ID identifies one applied object. Two IDs name the same object when all but Version are
// equal; Version is kept so that the object can be deleted through an API version the cluster
// served when it was applied.
type ID struct {
	Group     string
	Version   string
	Kind      string
	Namespace string
	Name      string
}

// IDOf returns the id of the object ref names.
func IDOf(ref render.Ref) ID {
	return ID{Group: ref.Group, Version: ref.Version, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}
}

// Ref returns the id as a reference, for apply.Manager.Prune and messages.
func (id ID) Ref() render.Ref {
	return render.Ref{Group: id.Group, Version: id.Version, Kind: id.Kind, Namespace: id.Namespace, Name: id.Name}
}

// String renders the id like render.Ref: "Kind.group/namespace/name".
func (id ID) String() string { return id.Ref().String() }

// object returns the id without its version: the identity of the object.
func (id ID) object() ID {
	id.Version = ""
	return id
}

func compareIDs(a, b ID) int {
	return cmp.Or(
		cmp.Compare(a.Group, b.Group),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Version, b.Version),
	)
}

// Inventory is the set of objects an environment applied at a commit.
type Inventory struct {
	Env string
	// Commit is the revision the objects were rendered from.
	Commit string
	// IDs are sorted and name each object once.
	IDs []ID
	// ResourceVersion is that of the ConfigMap the inventory was loaded from or saved to; empty
	// for an inventory not stored yet. Store.Save writes only over this version.
	ResourceVersion string

	// stored and storedCommit are the encoded inventory and its commit as last loaded or
	// saved, so that Save can skip a write that would change nothing.
	stored       []byte
	storedCommit string
}

// New returns the inventory of ids, sorted and with each object once (the first id of an
// object wins).
func New(env, commit string, ids []ID) *Inventory {
	inv := &Inventory{Env: env, Commit: commit}
	inv.add(ids...)
	return inv
}

// add inserts ids that name objects not in the inventory yet.
func (inv *Inventory) add(ids ...ID) {
	all := append(slices.Clip(inv.IDs), ids...)
	slices.SortStableFunc(all, func(a, b ID) int { return compareIDs(a.object(), b.object()) })
	inv.IDs = slices.CompactFunc(all, func(a, b ID) bool { return a.object() == b.object() })
}

// Contains reports whether the inventory holds the object id names, in any version.
func (inv *Inventory) Contains(id ID) bool {
	_, ok := inv.find(id)
	return ok
}

// find returns the inventory's id of the object id names.
func (inv *Inventory) find(id ID) (ID, bool) {
	if inv == nil {
		return ID{}, false
	}
	obj := id.object()
	i, _ := slices.BinarySearchFunc(inv.IDs, obj, compareIDs)
	if i < len(inv.IDs) && inv.IDs[i].object() == obj {
		return inv.IDs[i], true
	}
	return ID{}, false
}

// Refs returns ids as references, for apply.Manager.Prune: Refs(Diff(previous, current)) after
// a sync, Refs(inv.IDs) when the environment is removed.
func Refs(ids []ID) []render.Ref {
	out := make([]render.Ref, len(ids))
	for i, id := range ids {
		out[i] = id.Ref()
	}
	return out
}

// FromChangeSet returns the inventory after an apply of env at commit: every object the change
// set applied, and every object of previous (which may be nil) that the change set failed or
// skipped. Those may still exist; dropping them would make Diff call them stale and prune them
// for a failure that the next sync may well fix. The result keeps previous's ResourceVersion,
// so that Save replaces the ConfigMap previous was loaded from.
func FromChangeSet(env, commit string, cs apply.ChangeSet, previous *Inventory) *Inventory {
	var ids []ID
	for _, e := range cs.Entries {
		id := IDOf(e.Ref)
		switch {
		case e.Action.Applied():
			ids = append(ids, id)
		case e.Action == apply.ActionFailed || e.Action == apply.ActionSkipped:
			if old, ok := previous.find(id); ok {
				ids = append(ids, old)
			}
		}
	}
	inv := New(env, commit, ids)
	if previous != nil {
		inv.ResourceVersion, inv.stored, inv.storedCommit = previous.ResourceVersion, previous.stored, previous.storedCommit
	}
	return inv
}

// KeepFailed adds the objects whose deletion failed in a prune change set, so that the next
// sync prunes them again instead of forgetting them.
func (inv *Inventory) KeepFailed(prune apply.ChangeSet) {
	var failed []ID
	for _, e := range prune.Entries {
		if e.Action == apply.ActionFailed {
			failed = append(failed, IDOf(e.Ref))
		}
	}
	inv.add(failed...)
}

// Diff returns the objects of previous that current does not hold, with the versions previous
// recorded: the objects to prune. A nil inventory is empty.
func Diff(previous, current *Inventory) []ID {
	if previous == nil {
		return nil
	}
	var stale []ID
	for _, id := range previous.IDs {
		if !current.Contains(id) {
			stale = append(stale, id)
		}
	}
	return stale
}

// Union returns an inventory holding the objects of inv and other, with inv's commit and stored
// version. Saved before a prune and replaced by inv after it, it keeps an interrupted prune
// from forgetting objects it still has to delete.
func (inv *Inventory) Union(other *Inventory) *Inventory {
	u := &Inventory{Env: inv.Env, Commit: inv.Commit, ResourceVersion: inv.ResourceVersion, stored: inv.stored, storedCommit: inv.storedCommit}
	u.add(inv.IDs...)
	if other != nil {
		u.add(other.IDs...)
	}
	return u
}
