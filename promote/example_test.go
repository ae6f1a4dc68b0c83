package promote_test

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/promote"
	"github.com/gitops-agent/gitops-agent/render"
)

func ExampleParseTag() {
	for _, tag := range []string{"prod/2026-11-22.1", "prod", "production/1", "staging/2026-11-22.1"} {
		fmt.Println(tag, promote.ParseTag("prod", tag))
	}
	// Output:
	// prod/2026-11-22.1 true
	// prod true
	// production/1 false
	// staging/2026-11-22.1 false
}

func ExampleSplit() {
	deployment := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "api", "namespace": "shop"},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"app": "api"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "api"}}},
		},
	}}
	router := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "api", "namespace": "shop"},
		"spec": map[string]any{
			"selector": map[string]any{"app": "api"},
			"ports":    []any{map[string]any{"port": int64(80)}},
		},
	}}
	plan, err := promote.Split([]render.Object{{Obj: deployment}, {Obj: router}}, promote.Green, promote.Blue,
		[]render.Ref{{Kind: "Service", Namespace: "shop", Name: "api"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	show := func(part string, objs []*unstructured.Unstructured) {
		for _, o := range objs {
			sel, _, _ := unstructured.NestedStringMap(o.Object, "spec", "selector")
			if m, ok, _ := unstructured.NestedStringMap(o.Object, "spec", "selector", "matchLabels"); ok {
				sel = m
			}
			fmt.Printf("%s: %s %s selects %v\n", part, o.GetKind(), o.GetName(), sel)
		}
	}
	show("idle", plan.Colored)
	show("router", plan.Routers)
	show("preview", plan.Previews)
	show("switch", plan.RoutersSelecting(promote.Green))
	// Output:
	// idle: Deployment api-green selects map[app:api promote.gitops-agent.io/color:green]
	// router: Service api selects map[app:api promote.gitops-agent.io/color:blue]
	// preview: Service api-preview selects map[app:api promote.gitops-agent.io/color:green]
	// switch: Service api selects map[app:api promote.gitops-agent.io/color:green]
}
