package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-agent/gitops-agent/sync/apply"
)

var (
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// TestApplyCreatesThenWritesNothingThenConfiguresOne applies a set with one object of every
// stage three times: on an empty cluster, unchanged, and with one field changed.
func TestApplyCreatesThenWritesNothingThenConfiguresOne(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	objs := e.fixture("mixed-set.yaml")
	e.cleanupClusterScoped(objs)
	opts := apply.DefaultApplyOptions("staging")

	ns := e.ns
	refs := []string{
		"CustomResourceDefinition.apiextensions.k8s.io/widgets." + ns + ".example.com",
		"Namespace/" + ns + "-extra",
		"ConfigMap/" + ns + "/settings",
		"ConfigMap/" + ns + "-extra/settings",
		"Secret/" + ns + "/credentials",
		"Service/" + ns + "/api",
		"Deployment.apps/" + ns + "/api",
		"Widget." + ns + ".example.com/" + ns + "/gear",
	}

	cs, err := e.manager.Apply(ctx, objs, opts)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if diff := cmp.Diff(all(apply.ActionCreated, refs...), outcomes(cs)); diff != "" {
		t.Errorf("first apply (-want +got):\n%s", diff)
	}
	t.Logf("first apply: %s, %d writes", cs.Summary(), len(e.counter.take()))

	widget, err := e.get(schema.GroupVersionResource{Group: ns + ".example.com", Version: "v1", Resource: "widgets"}, ns, "gear")
	if err != nil {
		t.Fatalf("read applied Widget: %v", err)
	}
	wantLabels := map[string]string{apply.LabelManagedBy: apply.ManagedByValue, apply.LabelEnvironment: "staging"}
	if diff := cmp.Diff(wantLabels, widget.GetLabels()); diff != "" {
		t.Errorf("labels of the applied Widget (-want +got):\n%s", diff)
	}

	cs, err = e.manager.Apply(ctx, objs, opts)
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if diff := cmp.Diff(all(apply.ActionUnchanged, refs...), outcomes(cs)); diff != "" {
		t.Errorf("unchanged re-apply (-want +got):\n%s", diff)
	}
	if w := e.counter.take(); len(w) != 0 {
		t.Errorf("unchanged re-apply wrote %d times, want 0: %v", len(w), w)
	}
	// A new manager knows nothing of earlier applies and compares each object with a dry run.
	cs, err = e.newManager().Apply(ctx, objs, opts)
	if err != nil {
		t.Fatalf("re-apply by a new manager: %v", err)
	}
	if diff := cmp.Diff(all(apply.ActionUnchanged, refs...), outcomes(cs)); diff != "" {
		t.Errorf("unchanged re-apply by a new manager (-want +got):\n%s", diff)
	}
	if w := e.counter.take(); len(w) != 0 {
		t.Errorf("unchanged re-apply by a new manager wrote %d times, want 0: %v", len(w), w)
	}

	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetNamespace() == ns {
			if err := unstructured.SetNestedField(o.Object, "bonjour", "data", "greeting"); err != nil {
				t.Fatal(err)
			}
		}
	}
	cs, err = e.manager.Apply(ctx, objs, opts)
	if err != nil {
		t.Fatalf("third apply: %v", err)
	}
	want := all(apply.ActionUnchanged, refs...)
	want[2].Action = apply.ActionConfigured
	if diff := cmp.Diff(want, outcomes(cs)); diff != "" {
		t.Errorf("apply with one change (-want +got):\n%s", diff)
	}
	if w := e.counter.take(); len(w) != 1 {
		t.Errorf("apply with one change wrote %d times, want 1: %v", len(w), w)
	}
	cm, err := e.get(configMaps, ns, "settings")
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(cm.Object, "data", "greeting"); got != "bonjour" {
		t.Errorf("ConfigMap data.greeting = %q, want %q", got, "bonjour")
	}
}

// TestApplyImmutableField changes fields the API server refuses to update: without the
// recreate annotation the object fails with an error naming it and the field; with it, the
// object is deleted and created again.
func TestApplyImmutableField(t *testing.T) {
	tests := []struct {
		name          string
		before, after string
		ref, field    string
		gvr           schema.GroupVersionResource
		vars          map[string]string
	}{
		{name: "Deployment selector", before: "deployment-v1.yaml", after: "deployment-new-selector.yaml",
			ref: "Deployment.apps/%s/web", field: "spec.selector", gvr: deployments},
		{name: "Job template", before: "job-v1.yaml", after: "job-new-image.yaml",
			ref: "Job.batch/%s/migrate", field: "spec.template", gvr: schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}},
		{name: "Service clusterIP", before: "service-v1.yaml", after: "service-new-clusterip.yaml",
			ref: "Service/%s/db", field: "spec.clusterIPs[0]", gvr: schema.GroupVersionResource{Version: "v1", Resource: "services"},
			vars: map[string]string{"IP": "10.0.0.200", "IP2": "10.0.0.201"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			opts := apply.DefaultApplyOptions("staging")
			load := func(file, recreate string) []*unstructured.Unstructured {
				vars := map[string]string{"NS": e.ns, "RECREATE": recreate}
				for k, v := range tt.vars {
					vars[k] = v
				}
				return readObjects(t, file, vars)
			}
			ref := strings.Replace(tt.ref, "%s", e.ns, 1)

			if _, err := e.manager.Apply(ctx, load(tt.before, ""), opts); err != nil {
				t.Fatalf("create: %v", err)
			}
			before, err := e.get(tt.gvr, e.ns, load(tt.before, "")[0].GetName())
			if err != nil {
				t.Fatal(err)
			}

			cs, err := e.manager.Apply(ctx, load(tt.after, ""), opts)
			var immutable *apply.ImmutableFieldError
			if !errors.As(err, &immutable) {
				t.Fatalf("apply of an immutable change: error %v, want an ImmutableFieldError", err)
			}
			t.Logf("error: %v", err)
			if diff := cmp.Diff([]string{tt.field}, immutable.Fields); diff != "" {
				t.Errorf("immutable fields (-want +got):\n%s", diff)
			}
			for _, s := range []string{ref, tt.field, apply.AnnotationRecreate} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if diff := cmp.Diff(all(apply.ActionFailed, ref), outcomes(cs)); diff != "" {
				t.Errorf("change set (-want +got):\n%s", diff)
			}

			cs, err = e.manager.Apply(ctx, load(tt.after, "true"), opts)
			if err != nil {
				t.Fatalf("apply with %s: %v", apply.AnnotationRecreate, err)
			}
			if diff := cmp.Diff(all(apply.ActionRecreated, ref), outcomes(cs)); diff != "" {
				t.Errorf("change set with %s (-want +got):\n%s", apply.AnnotationRecreate, diff)
			}
			after, err := e.get(tt.gvr, e.ns, before.GetName())
			if err != nil {
				t.Fatal(err)
			}
			if after.GetUID() == before.GetUID() {
				t.Errorf("UID unchanged (%s): the object was not recreated", after.GetUID())
			}
		})
	}
}

// TestApplyFailureStopsLaterStagesOnly shows that a failed object fails alone within its stage
// and stops the stages after it.
func TestApplyFailureStopsLaterStagesOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	opts := apply.DefaultApplyOptions("staging")

	t.Run("within a stage", func(t *testing.T) {
		objs := []*unstructured.Unstructured{
			configMap(e.ns, "good", map[string]any{"k": "v"}),
			configMap(e.ns, "bad", map[string]any{"not a valid key": "v"}),
		}
		cs, err := e.manager.Apply(ctx, objs, opts)
		want := []outcome{{"ConfigMap/" + e.ns + "/bad", apply.ActionFailed}, {"ConfigMap/" + e.ns + "/good", apply.ActionCreated}}
		if diff := cmp.Diff(want, outcomes(cs)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if err == nil || !strings.HasPrefix(err.Error(), "ConfigMap/"+e.ns+"/bad: ") {
			t.Errorf("error %v, want one that starts with the failed object", err)
		}
	})

	t.Run("later stages", func(t *testing.T) {
		objs := []*unstructured.Unstructured{
			configMap(e.ns, "later", map[string]any{"k": "v"}),
			{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "Not_A_Valid_Name"}}},
			{Object: map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": map[string]any{"name": e.ns + "-reader"}}},
		}
		e.cleanupClusterScoped(objs)
		cs, err := e.manager.Apply(ctx, objs, opts)
		if err == nil {
			t.Fatal("no error for an invalid Namespace")
		}
		t.Logf("error: %v", err)
		want := []outcome{
			{"Namespace/Not_A_Valid_Name", apply.ActionFailed},
			{"ClusterRole.rbac.authorization.k8s.io/" + e.ns + "-reader", apply.ActionSkipped},
			{"ConfigMap/" + e.ns + "/later", apply.ActionSkipped},
		}
		if diff := cmp.Diff(want, outcomes(cs)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if got := cs.Entries[2].Reason; !strings.Contains(got, "1 of 1 Namespaces failed") {
			t.Errorf("skip reason %q does not name the failed stage", got)
		}
	})
}

// TestApplyForceConflicts takes over a field another field manager owns only with Force.
func TestApplyForceConflicts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	theirs := configMap(e.ns, "shared", map[string]any{"owner": "kubectl"})
	if _, err := e.dyn.Resource(configMaps).Namespace(e.ns).Apply(ctx, "shared", theirs, metav1.ApplyOptions{FieldManager: "kubectl"}); err != nil {
		t.Fatal(err)
	}
	ours := []*unstructured.Unstructured{configMap(e.ns, "shared", map[string]any{"owner": "gitops-agent"})}

	opts := apply.DefaultApplyOptions("staging")
	opts.Force = false
	cs, err := e.manager.Apply(ctx, ours, opts)
	if err == nil || !strings.Contains(err.Error(), "conflict") || !strings.Contains(err.Error(), "data.owner") {
		t.Errorf("apply without force: error %v, want a conflict on data.owner", err)
	}
	t.Logf("error: %v", err)
	if diff := cmp.Diff(all(apply.ActionFailed, "ConfigMap/"+e.ns+"/shared"), outcomes(cs)); diff != "" {
		t.Errorf("without force (-want +got):\n%s", diff)
	}

	cs, err = e.manager.Apply(ctx, ours, apply.DefaultApplyOptions("staging"))
	if err != nil {
		t.Fatalf("apply with force: %v", err)
	}
	if diff := cmp.Diff(all(apply.ActionConfigured, "ConfigMap/"+e.ns+"/shared"), outcomes(cs)); diff != "" {
		t.Errorf("with force (-want +got):\n%s", diff)
	}
}

// TestApplyRefusesAnotherEnvironmentsObject keeps two environments from fighting over one
// object.
func TestApplyRefusesAnotherEnvironmentsObject(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	objs := []*unstructured.Unstructured{configMap(e.ns, "settings", map[string]any{"k": "v"})}
	if _, err := e.manager.Apply(ctx, objs, apply.DefaultApplyOptions("production")); err != nil {
		t.Fatal(err)
	}
	_, err := e.manager.Apply(ctx, objs, apply.DefaultApplyOptions("staging"))
	if err == nil || !strings.Contains(err.Error(), `belongs to environment "production"`) {
		t.Errorf("error %v, want one naming the owning environment", err)
	}
}

// TestApplyErrorsHideSecretValues changes the data of an immutable Secret: the failure must not
// quote the old or the new value.
func TestApplyErrorsHideSecretValues(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := func(value string) []*unstructured.Unstructured {
		return []*unstructured.Unstructured{{Object: map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata":   map[string]any{"name": "token", "namespace": e.ns},
			"immutable":  true,
			"stringData": map[string]any{"token": value},
		}}}
	}
	opts := apply.DefaultApplyOptions("staging")
	if _, err := e.manager.Apply(ctx, secret("old-value-4a1f"), opts); err != nil {
		t.Fatal(err)
	}
	cs, err := e.manager.Apply(ctx, secret("new-value-9c3e"), opts)
	if err == nil {
		t.Fatal("changing an immutable Secret succeeded")
	}
	t.Logf("error: %v", err)
	for _, leak := range []string{"old-value-4a1f", "new-value-9c3e", "b2xkLXZhbHVlLTRhMWY=", "bmV3LXZhbHVlLTljM2U="} {
		if strings.Contains(err.Error(), leak) || strings.Contains(cs.Entries[0].String(), leak) {
			t.Errorf("error %q reveals a Secret value", err)
		}
	}
	if !strings.Contains(err.Error(), "Secret/"+e.ns+"/token") {
		t.Errorf("error %q does not name the Secret", err)
	}
}

func configMap(ns, name string, data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"data":     data,
	}}
}
