package apply_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// TestPrune deletes only what the environment applied and did not protect.
func TestPrune(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ns, extra := e.ns, e.ns+"-pruned"
	kept := configMap(ns, "kept", map[string]any{"k": "v"})
	kept.SetAnnotations(map[string]string{apply.AnnotationPrune: apply.PruneDisabled})
	keptInNamespace := configMap(extra+"-holds", "kept", nil)
	keptInNamespace.SetAnnotations(map[string]string{apply.AnnotationPrune: apply.PruneDisabled})
	ours := []*unstructured.Unstructured{
		configMap(ns, "stale", map[string]any{"k": "v"}),
		kept,
		namespace(extra),
		configMap(extra, "stale", nil),
		namespace(extra + "-holds"),
		keptInNamespace,
	}
	e.cleanupClusterScoped(ours)
	if _, err := e.manager.Apply(ctx, ours, apply.DefaultApplyOptions("staging")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.manager.Apply(ctx, []*unstructured.Unstructured{configMap(ns, "production", nil)}, apply.DefaultApplyOptions("production")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dyn.Resource(configMaps).Namespace(ns).Create(ctx, configMap(ns, "unlabelled", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	ref := func(kind, namespace, name string) render.Ref {
		return render.Ref{Version: "v1", Kind: kind, Namespace: namespace, Name: name}
	}
	refs := []render.Ref{
		ref("Namespace", "", extra),
		ref("Namespace", "", extra+"-holds"),
		ref("ConfigMap", ns, "stale"),
		ref("ConfigMap", ns, "kept"),
		ref("ConfigMap", ns, "production"),
		ref("ConfigMap", ns, "unlabelled"),
		ref("ConfigMap", ns, "never-existed"),
		ref("ConfigMap", extra, "stale"),
		ref("ConfigMap", extra+"-holds", "kept"),
		{Group: "example.com", Version: "v1", Kind: "Gadget", Namespace: ns, Name: "gone-with-its-crd"},
	}
	cs, err := e.manager.Prune(ctx, refs, apply.DefaultPruneOptions("staging"))
	if err != nil {
		t.Fatal(err)
	}
	want := []outcome{
		{"ConfigMap/" + ns + "/kept", apply.ActionSkipped},
		{"ConfigMap/" + ns + "/never-existed", apply.ActionSkipped},
		{"ConfigMap/" + ns + "/production", apply.ActionSkipped},
		{"ConfigMap/" + ns + "/stale", apply.ActionPruned},
		{"ConfigMap/" + ns + "/unlabelled", apply.ActionSkipped},
		{"ConfigMap/" + extra + "/stale", apply.ActionPruned},
		{"ConfigMap/" + extra + "-holds/kept", apply.ActionSkipped},
		{"Gadget.example.com/" + ns + "/gone-with-its-crd", apply.ActionSkipped},
		{"Namespace/" + extra, apply.ActionPruned},
		{"Namespace/" + extra + "-holds", apply.ActionSkipped},
	}
	if diff := cmp.Diff(want, outcomes(cs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, en := range cs.Entries {
		t.Logf("%s", en)
	}

	exists := func(gvr schema.GroupVersionResource, namespace, name string) bool {
		obj, err := e.get(gvr, namespace, name)
		if apierrors.IsNotFound(err) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		return obj.GetDeletionTimestamp() == nil
	}
	namespaces := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	for _, c := range []struct {
		gvr             schema.GroupVersionResource
		namespace, name string
		want            bool
	}{
		{configMaps, ns, "stale", false},
		{configMaps, ns, "kept", true},
		{configMaps, ns, "production", true},
		{configMaps, ns, "unlabelled", true},
		{namespaces, "", extra, false},
		{namespaces, "", extra + "-holds", true},
		{configMaps, extra + "-holds", "kept", true},
	} {
		if got := exists(c.gvr, c.namespace, c.name); got != c.want {
			t.Errorf("%s %s/%s exists = %v, want %v", c.gvr.Resource, c.namespace, c.name, got, c.want)
		}
	}
}

func namespace(name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}}
}

// TestPruneDeletesCustomResourcesBeforeTheirCRD deletes a CRD last, after the objects of its
// kind, so that their deletion is Prune's (with its label checks) and not a side effect.
func TestPruneDeletesCustomResourcesBeforeTheirCRD(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	objs := e.fixture("mixed-set.yaml")
	e.cleanupClusterScoped(objs)
	var crd, widget *unstructured.Unstructured
	for _, o := range objs {
		switch o.GetKind() {
		case "CustomResourceDefinition":
			crd = o
		case "Widget":
			widget = o
		}
	}
	if _, err := e.manager.Apply(ctx, []*unstructured.Unstructured{widget, crd}, apply.DefaultApplyOptions("staging")); err != nil {
		t.Fatal(err)
	}
	refs := []render.Ref{render.RefOf(crd), render.RefOf(widget)}
	cs, err := e.manager.Prune(ctx, refs, apply.DefaultPruneOptions("staging"))
	if err != nil {
		t.Fatal(err)
	}
	want := []outcome{
		{"Widget." + e.ns + ".example.com/" + e.ns + "/gear", apply.ActionPruned},
		{"CustomResourceDefinition.apiextensions.k8s.io/widgets." + e.ns + ".example.com", apply.ActionPruned},
	}
	if diff := cmp.Diff(want, outcomes(cs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
