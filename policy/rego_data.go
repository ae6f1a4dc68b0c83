package policy

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/gitops-agent/gitops-agent/render"
)

// environmentData is the data document that the rules see for one environment, built once per
// evaluation (policies/README.md documents it):
//
//   - gitops.environment: the environment's name;
//   - gitops.objects[namespace][kind][name]: every object, cluster-scoped ones under namespace
//     "". Should two objects share namespace, kind and name (two API groups with a kind of the
//     same name) the first one is kept;
//   - gitops.pod_templates[namespace][label][value]["Kind/name"]: {kind, name, labels, ports}
//     for each workload whose pod template carries that label, so that a Service finds the
//     workloads it selects without scanning the namespace.
//
// objects and pod_templates are built only when some rule may read them (needs); inputs holds
// the converted objects that they take (see dataNeeds.holds), other entries may be nil.
func environmentData(env string, objs []render.Object, inputs []ast.Value, needs dataNeeds) ast.Object {
	objects := newNestedObject()
	templates := newNestedObject()
	for i, o := range objs {
		if !needs.holds(o) {
			continue
		}
		ns, kind, name := o.Obj.GetNamespace(), o.Obj.GetKind(), o.Obj.GetName()
		if kind == "" || name == "" {
			continue
		}
		if needs.objects {
			names := objects.at(ns, kind)
			if names.Get(ast.StringTerm(name)) == nil {
				names.Insert(ast.StringTerm(name), ast.NewTerm(inputs[i]))
			}
		}
		if !needs.podTemplates {
			continue
		}
		if labels, ports, ok := podTemplateOf(o.Obj, inputs[i]); ok {
			entry := ast.NewTerm(ast.NewObject(
				ast.Item(ast.StringTerm("kind"), ast.StringTerm(kind)),
				ast.Item(ast.StringTerm("name"), ast.StringTerm(name)),
				ast.Item(ast.StringTerm("labels"), ast.NewTerm(labels)),
				ast.Item(ast.StringTerm("ports"), ast.NewTerm(ports)),
			))
			id := ast.StringTerm(kind + "/" + name)
			for _, label := range labels.Keys() {
				value, ok := labels.Get(label).Value.(ast.String)
				if !ok {
					continue
				}
				templates.at(ns, string(label.Value.(ast.String)), string(value)).Insert(id, entry)
			}
		}
	}
	gitops := []*ast.Term{ast.StringTerm("environment"), ast.StringTerm(env)}
	if needs.objects {
		gitops = append(gitops, ast.StringTerm("objects"), ast.NewTerm(objects.Object))
	}
	if needs.podTemplates {
		gitops = append(gitops, ast.StringTerm("pod_templates"), ast.NewTerm(templates.Object))
	}
	items := make([][2]*ast.Term, 0, len(gitops)/2)
	for i := 0; i < len(gitops); i += 2 {
		items = append(items, ast.Item(gitops[i], gitops[i+1]))
	}
	return ast.NewObject(ast.Item(ast.StringTerm("gitops"), ast.NewTerm(ast.NewObject(items...))))
}

// holds says whether environmentData takes obj, and so needs it converted.
func (n dataNeeds) holds(obj render.Object) bool {
	if n.objects {
		return true
	}
	_, ok := podTemplatePath(obj.Obj)
	return n.podTemplates && ok
}

// podTemplatePath is where a workload of the Kubernetes API groups keeps its pod template
// (nil for a Pod, which is its own template); ok is false for other objects.
func podTemplatePath(u *unstructured.Unstructured) (path []string, ok bool) {
	switch u.GetKind() {
	case "Pod":
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		path = []string{"spec", "template"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template"}
	default:
		return nil, false
	}
	switch u.GroupVersionKind().Group {
	case "", "apps", "batch", "extensions":
		return path, true
	default:
		return nil, false
	}
}

// podTemplateOf returns the pod template labels and the container ports of a workload of the
// Kubernetes API groups, read from its already converted input v without copying; ok is false
// for other objects.
func podTemplateOf(u *unstructured.Unstructured, v ast.Value) (labels ast.Object, ports *ast.Array, ok bool) {
	path, ok := podTemplatePath(u)
	if !ok {
		return nil, nil, false
	}
	template, ok := v.(ast.Object)
	for _, key := range path {
		if !ok {
			return nil, nil, false
		}
		template, ok = objectAt(template, key)
	}
	if !ok {
		return nil, nil, false
	}
	labels = ast.NewObject()
	if meta, ok := objectAt(template, "metadata"); ok {
		if l, ok := objectAt(meta, "labels"); ok {
			labels = l
		}
	}
	var portTerms []*ast.Term
	if spec, ok := objectAt(template, "spec"); ok {
		for _, field := range []string{"containers", "initContainers"} {
			for _, c := range arrayAt(spec, field) {
				if c, ok := c.Value.(ast.Object); ok {
					portTerms = append(portTerms, arrayAt(c, "ports")...)
				}
			}
		}
	}
	return labels, ast.NewArray(portTerms...), true
}

func objectAt(o ast.Object, key string) (ast.Object, bool) {
	t := o.Get(ast.StringTerm(key))
	if t == nil {
		return nil, false
	}
	v, ok := t.Value.(ast.Object)
	return v, ok
}

func arrayAt(o ast.Object, key string) []*ast.Term {
	t := o.Get(ast.StringTerm(key))
	if t == nil {
		return nil
	}
	a, ok := t.Value.(*ast.Array)
	if !ok {
		return nil
	}
	out := make([]*ast.Term, 0, a.Len())
	for i := range a.Len() {
		out = append(out, a.Elem(i))
	}
	return out
}

// nestedObject builds nested ast objects key by key.
type nestedObject struct{ ast.Object }

func newNestedObject() nestedObject { return nestedObject{ast.NewObject()} }

// at returns the object under keys, creating the missing levels.
func (n nestedObject) at(keys ...string) ast.Object {
	cur := n.Object
	for _, k := range keys {
		key := ast.StringTerm(k)
		next := cur.Get(key)
		if next == nil {
			next = ast.NewTerm(ast.NewObject())
			cur.Insert(key, next)
		}
		cur = next.Value.(ast.Object)
	}
	return cur
}
