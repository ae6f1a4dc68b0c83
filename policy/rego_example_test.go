package policy_test

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/render"
)

func ExampleRegoSet_Evaluate() {
	ctx := context.Background()
	set, err := policy.LoadDefaultRego(ctx, policy.DefaultRegoOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	container := map[string]any{
		"name":  "debug",
		"image": "busybox:latest",
		"env":   []any{map[string]any{"name": "DB_PASSWORD", "value": "hunter2"}},
		"resources": map[string]any{
			"requests": map[string]any{"cpu": "10m", "memory": "16Mi"},
			"limits":   map[string]any{"memory": "16Mi"},
		},
	}
	pod := render.Object{Source: "manifests/shop/debug.yaml", Obj: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata": map[string]any{
			"name":        "debug",
			"namespace":   "shop",
			"annotations": map[string]any{policy.ExemptAnnotationPrefix + "image-tag": "throw-away debugging pod"},
		},
		"spec": map[string]any{
			"securityContext": map[string]any{"runAsNonRoot": true},
			"containers":      []any{container},
		},
	}}}
	findings, err := set.Evaluate(ctx, "prod", []render.Object{pod})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Printf("%s %s %s %s\n", f.Object, f.Severity, f.Rule, f.Field)
		if f.Exempted != "" {
			fmt.Printf("  exempted: %s\n", f.Exempted)
		}
	}
	// Output:
	// Pod/shop/debug deny image-tag spec.containers[name=debug].image
	//   exempted: throw-away debugging pod
	// Pod/shop/debug deny no-bare-pod kind
	// Pod/shop/debug deny no-secret-env spec.containers[name=debug].env[name=DB_PASSWORD]
}
