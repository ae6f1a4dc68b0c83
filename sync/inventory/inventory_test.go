package inventory

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

var (
	deployV1 = ID{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}
	svc      = ID{Version: "v1", Kind: "Service", Namespace: "shop", Name: "api"}
	ns       = ID{Version: "v1", Kind: "Namespace", Name: "shop"}
	cm       = ID{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "settings"}
)

// ignoreStored compares inventories by what they say, not by their storage bookkeeping.
var ignoreStored = cmpopts.IgnoreUnexported(Inventory{})

func TestNewSortsAndKeepsOneIDPerObject(t *testing.T) {
	deployV2 := deployV1
	deployV2.Version = "v2"
	got := New("prod", "abc", []ID{svc, deployV1, ns, deployV2, svc})
	want := []ID{ns, svc, deployV1}
	if diff := cmp.Diff(want, got.IDs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !got.Contains(deployV2) {
		t.Error("Contains ignores the version: the object is the same")
	}
}

func TestFromChangeSet(t *testing.T) {
	entry := func(id ID, a apply.Action) apply.Entry { return apply.Entry{Ref: id.Ref(), Action: a} }
	deployV2 := deployV1
	deployV2.Version = "v2"
	previous := New("prod", "old", []ID{deployV1, svc, cm})
	previous.ResourceVersion = "7"

	tests := []struct {
		name     string
		entries  []apply.Entry
		previous *Inventory
		want     []ID
	}{
		{
			name:     "applied objects, whatever the action",
			previous: previous,
			entries: []apply.Entry{
				entry(ns, apply.ActionCreated), entry(deployV2, apply.ActionConfigured),
				entry(svc, apply.ActionUnchanged), entry(cm, apply.ActionRecreated),
			},
			want: []ID{cm, ns, svc, deployV2},
		},
		{
			name:     "failed or skipped objects stay when they were there before",
			previous: previous,
			entries: []apply.Entry{
				entry(ns, apply.ActionFailed), entry(deployV2, apply.ActionSkipped), entry(svc, apply.ActionFailed),
			},
			want: []ID{svc, deployV1},
		},
		{
			name:    "no previous inventory",
			entries: []apply.Entry{entry(ns, apply.ActionCreated), entry(svc, apply.ActionFailed)},
			want:    []ID{ns},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromChangeSet("prod", "new", apply.ChangeSet{Entries: tt.entries}, tt.previous)
			want := New("prod", "new", tt.want)
			if tt.previous != nil {
				want.ResourceVersion = tt.previous.ResourceVersion
			}
			if diff := cmp.Diff(want, got, ignoreStored); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	deployV2 := deployV1
	deployV2.Version = "v2"
	tests := []struct {
		name              string
		previous, current *Inventory
		want              []ID
	}{
		{"first sync", nil, New("prod", "", []ID{ns, svc}), nil},
		{"nothing removed", New("prod", "", []ID{ns, svc}), New("prod", "", []ID{svc, ns, cm}), nil},
		{"removed objects, in previous order", New("prod", "", []ID{ns, svc, cm, deployV1}), New("prod", "", []ID{svc}), []ID{cm, ns, deployV1}},
		{"a new version is the same object", New("prod", "", []ID{deployV1}), New("prod", "", []ID{deployV2}), nil},
		{"everything removed", New("prod", "", []ID{deployV1}), nil, []ID{deployV1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Diff(tt.previous, tt.current)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func ExampleDiff() {
	previous := New("prod", "1111111", []ID{
		{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "settings"},
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"},
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "worker"},
	})
	cs := apply.ChangeSet{Entries: []apply.Entry{
		{Ref: render.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}, Action: apply.ActionUnchanged},
		{Ref: render.Ref{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "settings"}, Action: apply.ActionFailed, Err: errors.New("boom")},
	}}
	current := FromChangeSet("prod", "2222222", cs, previous)
	stale := Diff(previous, current)
	for _, ref := range Refs(stale) { // what apply.Manager.Prune takes
		fmt.Println("prune", ref)
	}
	// Output:
	// prune Deployment.apps/shop/worker
}

func TestKeepFailed(t *testing.T) {
	inv := New("prod", "", []ID{svc})
	inv.KeepFailed(apply.ChangeSet{Entries: []apply.Entry{
		{Ref: cm.Ref(), Action: apply.ActionFailed, Err: errors.New("forbidden")},
		{Ref: ns.Ref(), Action: apply.ActionPruned},
		{Ref: deployV1.Ref(), Action: apply.ActionSkipped, Reason: "annotated gitops-agent.io/prune: disabled"},
	}})
	if diff := cmp.Diff([]ID{cm, svc}, inv.IDs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
