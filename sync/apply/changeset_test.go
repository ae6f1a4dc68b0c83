package apply_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

func ExampleChangeSet_Summary() {
	ref := func(name string) render.Ref {
		return render.Ref{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: name}
	}
	cs := apply.ChangeSet{Entries: []apply.Entry{
		{Ref: ref("a"), Action: apply.ActionCreated},
		{Ref: ref("b"), Action: apply.ActionUnchanged},
		{Ref: ref("c"), Action: apply.ActionUnchanged},
		{Ref: ref("d"), Action: apply.ActionSkipped, Reason: "not applied because 1 of 1 Namespaces failed"},
	}}
	fmt.Println(cs.Summary())
	for _, e := range cs.Entries {
		fmt.Println(e)
	}
	// Output:
	// 1 created, 2 unchanged, 1 skipped
	// ConfigMap/shop/a created
	// ConfigMap/shop/b unchanged
	// ConfigMap/shop/c unchanged
	// ConfigMap/shop/d skipped (not applied because 1 of 1 Namespaces failed)
}

func ExampleStages() {
	for _, s := range apply.Stages() {
		fmt.Println(s)
	}
	// Output:
	// CustomResourceDefinitions
	// Namespaces
	// cluster-scoped objects
	// namespaced objects
}

func TestChangeSetErr(t *testing.T) {
	first, second := errors.New("ConfigMap/shop/a: apply: boom"), errors.New("ConfigMap/shop/b: apply: bang")
	cs := apply.ChangeSet{Entries: []apply.Entry{
		{Action: apply.ActionFailed, Err: first},
		{Action: apply.ActionCreated},
		{Action: apply.ActionFailed, Err: second},
	}}
	err := cs.Err()
	if !errors.Is(err, first) || !errors.Is(err, second) {
		t.Errorf("Err() = %v, want both entry errors", err)
	}
	if diff := cmp.Diff(2, len(cs.Failed())); diff != "" {
		t.Errorf("failed entries (-want +got):\n%s", diff)
	}
	if err := (apply.ChangeSet{}).Err(); err != nil {
		t.Errorf("empty change set: Err() = %v", err)
	}
}

func TestOptionsRequireAValidEnvironment(t *testing.T) {
	tests := []struct{ env, want string }{
		{"", "no environment given"},
		{"has space", `environment "has space" cannot be the value of label gitops-agent.io/environment`},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			var m *apply.Manager // options are checked before the manager is used
			_, err := m.Apply(t.Context(), nil, apply.DefaultApplyOptions(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Apply: error %v, want %q", err, tt.want)
			}
			_, err = m.Prune(t.Context(), nil, apply.DefaultPruneOptions(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Prune: error %v, want %q", err, tt.want)
			}
		})
	}
}
