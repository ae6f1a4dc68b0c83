package apply

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestStageOf(t *testing.T) {
	tests := []struct {
		gk         schema.GroupKind
		namespaced bool
		want       Stage
	}{
		{schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}, false, StageCRDs},
		{schema.GroupKind{Kind: "Namespace"}, false, StageNamespaces},
		{schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}, false, StageClusterScoped},
		{schema.GroupKind{Group: "example.com", Kind: "Namespace"}, false, StageClusterScoped},
		{schema.GroupKind{Kind: "ConfigMap"}, true, StageNamespaced},
		{schema.GroupKind{Group: "example.com", Kind: "Widget"}, true, StageNamespaced},
	}
	for _, tt := range tests {
		t.Run(tt.gk.String(), func(t *testing.T) {
			if got := StageOf(tt.gk, tt.namespaced); got != tt.want {
				t.Errorf("StageOf(%v, %v) = %v, want %v", tt.gk, tt.namespaced, got, tt.want)
			}
		})
	}
}

// TestPlan checks what Apply decides before any request: stages by kind, copies that carry the
// agent labels, and failures for objects it cannot apply.
func TestPlan(t *testing.T) {
	obj := func(apiVersion, kind, ns, name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind(kind)
		u.SetNamespace(ns)
		u.SetName(name)
		return u
	}
	withRV := obj("v1", "ConfigMap", "shop", "settings")
	withRV.SetResourceVersion("42")
	unencodable := obj("v1", "ConfigMap", "shop", "unencodable")
	unencodable.Object["spec"] = map[string]any{"ratio": math.NaN()}
	input := []*unstructured.Unstructured{
		withRV,
		obj("v1", "ConfigMap", "shop", "twice"),
		obj("v1", "ConfigMap", "shop", "twice"),
		obj("v1", "Namespace", "", "shop"),
		obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com"),
		obj("v1", "", "shop", "no-kind"),
		obj("v1", "ConfigMap", "shop", ""),
		unencodable,
	}
	byStage, pending := plan(input, "staging")

	type planned struct {
		Ref string
		Err string
	}
	summarize := func(ts []*target) []planned {
		var out []planned
		for _, t := range ts {
			p := planned{Ref: t.ref.String()}
			if t.err != nil {
				p.Err = t.err.Error()
			}
			out = append(out, p)
		}
		return out
	}
	if diff := cmp.Diff([]planned{{Ref: "CustomResourceDefinition.apiextensions.k8s.io/widgets.example.com"}}, summarize(byStage[StageCRDs])); diff != "" {
		t.Errorf("CRD stage (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]planned{{Ref: "Namespace/shop"}}, summarize(byStage[StageNamespaces])); diff != "" {
		t.Errorf("Namespace stage (-want +got):\n%s", diff)
	}
	twice := "declared 2 times: an object must be declared once per environment"
	wantPending := []planned{
		{Ref: "ConfigMap/shop/settings"},
		{Ref: "ConfigMap/shop/twice", Err: twice},
		{Ref: "ConfigMap/shop/twice", Err: twice},
		{Ref: "/shop/no-kind", Err: "no apiVersion or kind"},
		{Ref: "ConfigMap/shop/", Err: "no metadata.name"},
		{Ref: "ConfigMap/shop/unencodable", Err: "encode as JSON: json: unsupported value: NaN"},
	}
	if diff := cmp.Diff(wantPending, summarize(pending)); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}

	got := pending[0].obj
	if got.GetResourceVersion() != "" {
		t.Errorf("resourceVersion %q kept: the apply would be a conditional update", got.GetResourceVersion())
	}
	if diff := cmp.Diff(map[string]string{LabelManagedBy: ManagedByValue, LabelEnvironment: "staging"}, got.GetLabels()); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if withRV.GetResourceVersion() != "42" || withRV.GetLabels() != nil {
		t.Error("plan modified the caller's object")
	}
}
