package health_test

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/health"
)

func ExampleCompute() {
	deploy := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "api", "namespace": "shop", "generation": int64(4)},
		"spec":     map[string]any{"replicas": int64(3)},
		"status": map[string]any{
			"observedGeneration": int64(4), "replicas": int64(3),
			"updatedReplicas": int64(3), "readyReplicas": int64(2), "availableReplicas": int64(2),
		},
	}}
	res, err := health.Compute(deploy, health.DefaultOptions())
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %s\n", res.Status, res.Message)
	// Output:
	// InProgress: 2 of 3 updated replicas available
}
