package drift_test

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/drift"
)

func ExampleCompare() {
	desired := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "api", "namespace": "shop"},
		"spec": map[string]any{
			"replicas": int64(2),
			"template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "api", "image": "shop/api:1.0", "resources": map[string]any{"limits": map[string]any{"cpu": "0.5"}}},
			}}},
		},
	}}
	live := desired.DeepCopy()
	// The server's canonical quantity and a default are no drift; the replicas are.
	_ = unstructured.SetNestedSlice(live.Object, []any{
		map[string]any{"name": "api", "image": "shop/api:1.0", "imagePullPolicy": "IfNotPresent", "resources": map[string]any{"limits": map[string]any{"cpu": "500m"}}},
	}, "spec", "template", "spec", "containers")
	_ = unstructured.SetNestedField(live.Object, int64(5), "spec", "replicas")

	d := drift.Compare(desired, live, nil)
	fmt.Println(d.Type, d.Paths())
	d = drift.Compare(desired, live, []drift.IgnoreRule{{Kind: "Deployment", Paths: []string{"/spec/replicas"}}})
	fmt.Println(d.Drifted())
	// Output:
	// Modified [/spec/replicas]
	// false
}
