package apply

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestEquivalent(t *testing.T) {
	live := func() *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{
				"name": "api", "namespace": "shop", "uid": "u-1", "resourceVersion": "10", "generation": int64(3),
				"creationTimestamp": "2026-01-02T03:04:05Z",
				"labels":            map[string]any{"app": "api"},
				"managedFields":     []any{map[string]any{"manager": "gitops-agent", "time": "2026-01-02T03:04:05Z"}},
			},
			"spec":   map[string]any{"replicas": int64(2)},
			"status": map[string]any{"readyReplicas": int64(2)},
		}}
	}
	tests := []struct {
		name          string
		change        func(u *unstructured.Unstructured)
		compareStatus bool
		want          bool
	}{
		{name: "identical", change: func(*unstructured.Unstructured) {}, want: true},
		{name: "server-written metadata differs", want: true, change: func(u *unstructured.Unstructured) {
			u.SetResourceVersion("11")
			u.SetGeneration(4)
			u.SetManagedFields(nil)
		}},
		{name: "status differs", want: true, change: func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, int64(1), "status", "readyReplicas")
		}},
		{name: "status differs and is declared", compareStatus: true, want: false, change: func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, int64(1), "status", "readyReplicas")
		}},
		{name: "spec differs", want: false, change: func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, int64(3), "spec", "replicas")
		}},
		{name: "label differs", want: false, change: func(u *unstructured.Unstructured) {
			u.SetLabels(map[string]string{"app": "web"})
		}},
		{name: "field removed", want: false, change: func(u *unstructured.Unstructured) {
			unstructured.RemoveNestedField(u.Object, "spec", "replicas")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := live(), live()
			tt.change(b)
			if got := equivalent(a, b, tt.compareStatus); got != tt.want {
				t.Errorf("equivalent = %v, want %v", got, tt.want)
			}
			if a.GetResourceVersion() != "10" || len(a.GetManagedFields()) != 1 {
				t.Error("equivalent modified its input")
			}
		})
	}
}
