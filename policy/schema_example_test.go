package policy_test

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/render"
)

func ExampleSchemaValidator_Validate() {
	ctx := context.Background()
	v, err := policy.NewSchemaValidator(ctx, policy.DefaultSchemaOptions())
	if err != nil {
		panic(err)
	}
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": "settings", "namespace": "Pilot1"},
		"date":       map[string]any{"mode": "fast"},
	}}
	findings, err := v.Validate(ctx, "pilot1", []render.Object{{Obj: cm, Source: "manifests/settings.yaml"}})
	if err != nil {
		panic(err)
	}
	for _, f := range findings {
		fmt.Printf("%s %s %s %s: %s\n", f.Severity, f.Rule, f.Object, f.Field, f.Message)
	}
	// Output:
	// deny schema ConfigMap/Pilot1/settings date: unknown field "date"; did you mean "data"?; the fields allowed here are listed by `kubectl explain configmap --api-version=v1`
	// deny name ConfigMap/Pilot1/settings metadata.namespace: namespace "Pilot1" is invalid: namespace names must be a lowercase RFC 1123 label (at most 63 characters: a-z, 0-9 and '-', starting and ending with a letter or digit); rename it, for example to "pilot1", and update every reference to it
}
