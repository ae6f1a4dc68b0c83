package installtest

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-agent/gitops-agent/config"
	"github.com/gitops-agent/gitops-agent/render"
)

// The installation's fixed names.
const (
	agentNamespace = "gitops-agent"
	agentName      = "gitops-agent"
	serviceAccount = "system:serviceaccount:gitops-agent:gitops-agent"
)

// renderPath renders the kustomization at path (repository-relative) with the agent's own
// renderer, as `gitops-agent check --env ./path` does.
func renderPath(tb testing.TB, path string) []render.Object {
	tb.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := render.New(render.DefaultOptions()).RenderDir(context.Background(), root, path)
	if err != nil {
		tb.Fatalf("render %s: %v", path, err)
	}
	return res.Objects
}

// objectsOf returns the objects of kind, in namespace unless namespace is "*".
func objectsOf(objs []render.Object, kind, namespace string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.Obj.GetKind() == kind && (namespace == "*" || o.Obj.GetNamespace() == namespace) {
			out = append(out, o.Obj)
		}
	}
	return out
}

// theObject returns the one object of kind in namespace whose name is name, or that carries
// the label app.kubernetes.io/component=name when the name is generated (the ConfigMap).
func theObject(tb testing.TB, objs []render.Object, kind, namespace, name string) *unstructured.Unstructured {
	tb.Helper()
	var found []*unstructured.Unstructured
	for _, o := range objectsOf(objs, kind, namespace) {
		if o.GetName() == name || o.GetLabels()["app.kubernetes.io/component"] == name {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("want one %s %s/%s in the render, found %d", kind, namespace, name, len(found))
	}
	return found[0]
}

// typed converts u into out (a pointer to an API type).
func typed(tb testing.TB, u *unstructured.Unstructured, out any) {
	tb.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
		tb.Fatalf("%s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
}

// shippedConfig returns the agent configuration of the install's ConfigMap, parsed and
// defaulted as the agent reads it.
func shippedConfig(tb testing.TB, objs []render.Object) *config.Config {
	tb.Helper()
	cm := theObject(tb, objs, "ConfigMap", agentNamespace, "config")
	raw, _, _ := unstructured.NestedString(cm.Object, "data", "agent.yaml")
	cfg, err := config.Parse([]byte(raw))
	if err != nil {
		tb.Fatalf("ConfigMap %s/%s, agent.yaml: %v", cm.GetNamespace(), cm.GetName(), err)
	}
	return cfg
}

// rulesOf returns the rules of the Role (or ClusterRole, namespace "") named gitops-agent.
func rulesOf(tb testing.TB, objs []render.Object, namespace string) []rbacv1.PolicyRule {
	tb.Helper()
	kind := "Role"
	if namespace == "" {
		kind = "ClusterRole"
	}
	var role rbacv1.Role
	typed(tb, theObject(tb, objs, kind, namespace, agentName), &role)
	return role.Rules
}

// allows reports whether one of rules grants verb on the named object of group/resource, the
// way RBAC matches a request.
func allows(rules []rbacv1.PolicyRule, verb, group, resource, name string) bool {
	has := func(list []string, v string) bool { return slices.Contains(list, v) || slices.Contains(list, "*") }
	for _, r := range rules {
		if has(r.Verbs, verb) && has(r.APIGroups, group) && has(r.Resources, resource) &&
			(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name)) {
			return true
		}
	}
	return false
}
