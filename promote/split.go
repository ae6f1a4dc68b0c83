package promote

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gitops-agent/gitops-agent/render"
)

// Plan is an environment's render split for promoting it to one colour.
type Plan struct {
	Idle Color
	// Live is the colour the routers select now; empty when nothing is live yet.
	Live Color
	// Shared objects exist once for both colours (StatefulSets, ConfigMaps, Secrets, Services
	// that are not routers, ...): a database is never doubled.
	Shared []*unstructured.Unstructured
	// Colored are the idle colour's Deployments and the HorizontalPodAutoscalers and
	// PodDisruptionBudgets that follow them, renamed and labelled with the colour.
	Colored []*unstructured.Unstructured
	// Deployments are the repository's Deployments that are coloured, under their own names.
	Deployments []render.Ref
	// Routers select the live colour (the idle one when nothing is live).
	Routers []*unstructured.Unstructured
	// Previews are one ClusterIP Service per router that selects the idle colour.
	Previews []*unstructured.Unstructured
	// Smoke are the Jobs that check the idle colour through the previews; they are run at the
	// smoke gate under fresh names, never applied with the rest.
	Smoke []*unstructured.Unstructured

	// routers are the router Services as rendered, their selectors not coloured yet.
	routers []*unstructured.Unstructured
}

// RoutersSelecting returns copies of the routers that select colour c.
func (p *Plan) RoutersSelecting(c Color) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(p.routers))
	for i, r := range p.routers {
		out[i] = withSelectorColor(r, c)
	}
	return out
}

// Objects returns everything the idle colour's deployment applies: shared, coloured and
// preview objects, not the routers or the smoke Jobs.
func (p *Plan) Objects() []*unstructured.Unstructured {
	return slices.Concat(p.Shared, p.Colored, p.Previews)
}

var (
	gkDeployment = schema.GroupKind{Group: "apps", Kind: "Deployment"}
	gkHPA        = schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}
	gkPDB        = schema.GroupKind{Group: "policy", Kind: "PodDisruptionBudget"}
	gkService    = schema.GroupKind{Kind: "Service"}
	gkJob        = schema.GroupKind{Group: "batch", Kind: "Job"}
)

// Split turns an environment's rendered objects into the plan of deploying them to the idle
// colour while live stays live (live is empty before the first promotion). routers names
// router Services besides those annotated promote.gitops-agent.io/router: "true"; a ref
// without a namespace names the Service in any namespace. objs are not modified. The error
// lists every object that cannot be split, with its field.
func Split(objs []render.Object, idle Color, live Color, routers []render.Ref) (Plan, error) {
	if err := idle.valid(); err != nil {
		return Plan{}, fmt.Errorf("idle %w", err)
	}
	if live != "" {
		if err := live.valid(); err != nil {
			return Plan{}, fmt.Errorf("live %w", err)
		}
		if live == idle {
			return Plan{}, fmt.Errorf("idle and live colour are both %q", idle)
		}
	}
	s := splitter{plan: Plan{Idle: idle, Live: live}, objs: objs, routerRefs: routers, colored: map[render.Ref]bool{}}
	s.findDeployments()
	s.checkRouterRefs()
	for _, o := range objs {
		s.place(o)
	}
	s.checkCollisions()
	if len(s.errs) > 0 {
		return Plan{}, errors.Join(s.errs...)
	}
	routerColor := live
	if routerColor == "" {
		routerColor = idle
	}
	s.plan.Routers = s.plan.RoutersSelecting(routerColor)
	return s.plan, nil
}

// splitter holds one Split's work in progress.
type splitter struct {
	plan       Plan
	objs       []render.Object
	routerRefs []render.Ref
	// colored holds the refs of the Deployments that are coloured; their pod templates' labels
	// are in templates.
	colored   map[render.Ref]bool
	templates []podTemplate
	errs      []error
}

// podTemplate is the pod labels of a workload, to see which workloads a selector selects.
type podTemplate struct {
	ref     render.Ref
	labels  labels.Set
	colored bool
}

func (s *splitter) fail(o render.Object, format string, args ...any) {
	s.errs = append(s.errs, fmt.Errorf("%s: %s", describe(o), fmt.Sprintf(format, args...)))
}

// describe names an object and the file that declares it.
func describe(o render.Object) string {
	if o.Source == "" {
		return o.Ref().String()
	}
	return fmt.Sprintf("%s (%s)", o.Ref(), o.Source)
}

// findDeployments records the Deployments to colour and the pod templates of every workload.
// Only Deployments behind a router are coloured: the others are not switched, so running them
// twice would only let both colours serve their clients at once.
func (s *splitter) findDeployments() {
	routed := s.routerSelectors()
	for _, o := range s.objs {
		ref := o.Ref()
		gk := ref.GroupKind()
		tmpl, found, _ := unstructured.NestedStringMap(o.Obj.Object, "spec", "template", "metadata", "labels")
		switch {
		case gk == gkDeployment && ref.Version == "v1" && routed(ref.Namespace, tmpl):
			s.colored[key(ref)] = true
			s.plan.Deployments = append(s.plan.Deployments, ref)
			s.templates = append(s.templates, podTemplate{ref: ref, labels: tmpl, colored: true})
		case (found && gk.Group == "apps") || gk == gkJob:
			s.templates = append(s.templates, podTemplate{ref: ref, labels: tmpl})
		}
	}
}

// routerSelectors returns whether a router Service in namespace selects pods labelled
// podLabels, whatever colour the router selects now.
func (s *splitter) routerSelectors() func(namespace string, podLabels map[string]string) bool {
	type routerSelector struct {
		namespace string
		selector  labels.Set
	}
	var routers []routerSelector
	for _, o := range s.objs {
		if o.Ref().GroupKind() != gkService || !s.isRouter(o) {
			continue
		}
		sel, _, _ := unstructured.NestedStringMap(o.Obj.Object, "spec", "selector")
		delete(sel, LabelColor)
		if len(sel) > 0 {
			routers = append(routers, routerSelector{namespace: o.Obj.GetNamespace(), selector: sel})
		}
	}
	return func(namespace string, podLabels map[string]string) bool {
		return slices.ContainsFunc(routers, func(r routerSelector) bool {
			return r.namespace == namespace && labels.SelectorFromSet(r.selector).Matches(labels.Set(podLabels))
		})
	}
}

// checkRouterRefs checks that every configured router names a rendered Service.
func (s *splitter) checkRouterRefs() {
	for _, r := range s.routerRefs {
		if r.GroupKind() != gkService {
			s.errs = append(s.errs, fmt.Errorf("router %s is not a Service: promotion switches Service selectors; name the Service that routes to the workload instead", r))
			continue
		}
		if !slices.ContainsFunc(s.objs, func(o render.Object) bool { return s.namedRouter(o.Ref(), r) }) {
			s.errs = append(s.errs, fmt.Errorf("router %s is not among the environment's rendered objects: correct the environment's routers", r))
		}
	}
}

// namedRouter reports whether ref is the Service that router names.
func (s *splitter) namedRouter(ref, router render.Ref) bool {
	return ref.GroupKind() == gkService && router.GroupKind() == gkService && ref.Name == router.Name &&
		(router.Namespace == "" || router.Namespace == ref.Namespace)
}

func (s *splitter) isRouter(o render.Object) bool {
	if o.Obj.GetAnnotations()[AnnotationRouter] == "true" {
		return true
	}
	return slices.ContainsFunc(s.routerRefs, func(r render.Ref) bool { return s.namedRouter(o.Ref(), r) })
}

func isSmoke(o render.Object) bool {
	if o.Obj.GetAnnotations()[AnnotationSmoke] == "true" {
		return true
	}
	if o.Ref().GroupKind() != gkJob || o.Source == "" {
		return false
	}
	return slices.Contains(strings.Split(path.Dir(o.Source), "/"), "smoke")
}

// place puts one object in its part of the plan.
func (s *splitter) place(o render.Object) {
	ref := o.Ref()
	gk := ref.GroupKind()
	switch {
	case s.isRouter(o):
		s.router(o)
	case isSmoke(o):
		if gk != gkJob {
			s.fail(o, "metadata.annotations[%s]: only a Job can be a smoke check", AnnotationSmoke)
			return
		}
		s.plan.Smoke = append(s.plan.Smoke, o.Obj.DeepCopy())
	case s.colored[key(ref)]:
		s.deployment(o)
	case gk == gkHPA:
		s.hpa(o)
	case gk == gkPDB:
		s.pdb(o)
	default:
		s.plan.Shared = append(s.plan.Shared, o.Obj.DeepCopy())
	}
}

// deployment colours a Deployment: name, labels, selector and pod template.
func (s *splitter) deployment(o render.Object) {
	c := colored(o.Obj, s.plan.Idle)
	for _, field := range [][]string{{"spec", "selector", "matchLabels"}, {"spec", "template", "metadata", "labels"}} {
		m, _, _ := unstructured.NestedStringMap(c.Object, field...)
		if m == nil {
			m = map[string]string{}
		}
		m[LabelColor] = string(s.plan.Idle)
		_ = unstructured.SetNestedStringMap(c.Object, m, field...)
	}
	sel, err := selectorOf(c, "spec", "selector")
	tmpl, _, _ := unstructured.NestedStringMap(c.Object, "spec", "template", "metadata", "labels")
	switch {
	case err != nil:
		s.fail(o, "spec.selector: %v", err)
		return
	case !sel.Matches(labels.Set(tmpl)):
		s.fail(o, "spec.selector %s does not match the coloured pod template's labels %s: remove the selector's expressions on %s or make the template match it",
			sel, labels.Set(tmpl), LabelColor)
		return
	}
	s.plan.Colored = append(s.plan.Colored, c)
}

// hpa colours an autoscaler whose target is a coloured Deployment; others are shared.
func (s *splitter) hpa(o render.Object) {
	target, _, _ := unstructured.NestedStringMap(o.Obj.Object, "spec", "scaleTargetRef")
	gv, _ := schema.ParseGroupVersion(target["apiVersion"])
	ref := render.Ref{Group: gv.Group, Kind: target["kind"], Namespace: o.Obj.GetNamespace(), Name: target["name"]}
	if ref.GroupKind() != gkDeployment || !s.colored[key(ref)] {
		s.plan.Shared = append(s.plan.Shared, o.Obj.DeepCopy())
		return
	}
	c := colored(o.Obj, s.plan.Idle)
	_ = unstructured.SetNestedField(c.Object, ColoredName(ref.Name, s.plan.Idle), "spec", "scaleTargetRef", "name")
	s.plan.Colored = append(s.plan.Colored, c)
}

// pdb colours a disruption budget that selects a coloured Deployment's pods. One that selects
// every pod (an empty selector) is shared; one that also selects a shared workload's pods
// cannot be split.
func (s *splitter) pdb(o render.Object) {
	sel, err := selectorOf(o.Obj, "spec", "selector")
	if err != nil {
		s.fail(o, "spec.selector: %v", err)
		return
	}
	if sel.Empty() {
		s.plan.Shared = append(s.plan.Shared, o.Obj.DeepCopy())
		return
	}
	var coloredOnes, sharedOnes []string
	for _, t := range s.templates {
		if t.ref.Namespace != o.Obj.GetNamespace() || !sel.Matches(t.labels) {
			continue
		}
		if t.colored {
			coloredOnes = append(coloredOnes, t.ref.String())
		} else {
			sharedOnes = append(sharedOnes, t.ref.String())
		}
	}
	switch {
	case len(coloredOnes) == 0:
		s.plan.Shared = append(s.plan.Shared, o.Obj.DeepCopy())
		return
	case len(sharedOnes) > 0:
		s.fail(o, "spec.selector %s selects the pods of coloured %s and of shared %s: give each its own PodDisruptionBudget",
			sel, strings.Join(coloredOnes, ", "), strings.Join(sharedOnes, ", "))
		return
	}
	c := colored(o.Obj, s.plan.Idle)
	m, _, _ := unstructured.NestedStringMap(c.Object, "spec", "selector", "matchLabels")
	if m == nil {
		m = map[string]string{}
	}
	m[LabelColor] = string(s.plan.Idle)
	_ = unstructured.SetNestedStringMap(c.Object, m, "spec", "selector", "matchLabels")
	s.plan.Colored = append(s.plan.Colored, c)
}

// router checks a router Service and adds it and its preview.
func (s *splitter) router(o render.Object) {
	if o.Ref().GroupKind() != gkService {
		s.fail(o, "metadata.annotations[%s]: only a Service can be a router", AnnotationRouter)
		return
	}
	sel, _, _ := unstructured.NestedStringMap(o.Obj.Object, "spec", "selector")
	delete(sel, LabelColor)
	if len(sel) == 0 {
		s.fail(o, "spec.selector: a router must select the pods of a coloured Deployment by label; this one selects none")
		return
	}
	var selects bool
	for _, t := range s.templates {
		if t.colored && t.ref.Namespace == o.Obj.GetNamespace() && labels.SelectorFromSet(sel).Matches(t.labels) {
			selects = true
			break
		}
	}
	if !selects {
		s.fail(o, "spec.selector %s selects no coloured workload (Deployment apps/v1) in namespace %s: a router must route to a Deployment of the environment",
			labels.Set(sel), o.Obj.GetNamespace())
		return
	}
	name := o.Obj.GetName() + previewSuffix
	if msgs := validation.IsDNS1035Label(name); len(msgs) > 0 {
		s.fail(o, "metadata.name: its preview Service %q is not a valid Service name (%s): shorten the router's name", name, strings.Join(msgs, "; "))
		return
	}
	r := o.Obj.DeepCopy()
	s.plan.routers = append(s.plan.routers, r)
	s.plan.Previews = append(s.plan.Previews, preview(r, name, s.plan.Idle))
}

// preview returns the ClusterIP Service that reaches colour c of router's pods.
func preview(router *unstructured.Unstructured, name string, c Color) *unstructured.Unstructured {
	lbls := maps.Clone(router.GetLabels())
	if lbls == nil {
		lbls = map[string]string{}
	}
	lbls[LabelPreview] = "true"
	sel, _, _ := unstructured.NestedStringMap(router.Object, "spec", "selector")
	sel[LabelColor] = string(c)
	ports, _, _ := unstructured.NestedSlice(router.Object, "spec", "ports")
	var kept []any
	for _, p := range ports {
		pm, ok := p.(map[string]any)
		if !ok {
			continue
		}
		np := map[string]any{}
		for _, f := range []string{"name", "protocol", "appProtocol", "port", "targetPort"} {
			if v, ok := pm[f]; ok {
				np[f] = v
			}
		}
		kept = append(kept, np)
	}
	p := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Service",
		"metadata":   map[string]any{"name": name, "namespace": router.GetNamespace()},
		"spec":       map[string]any{"type": "ClusterIP", "ports": kept},
	}}
	p.SetLabels(lbls)
	_ = unstructured.SetNestedStringMap(p.Object, sel, "spec", "selector")
	return p
}

// withSelectorColor returns a copy of the Service svc that selects colour c.
func withSelectorColor(svc *unstructured.Unstructured, c Color) *unstructured.Unstructured {
	out := svc.DeepCopy()
	sel, _, _ := unstructured.NestedStringMap(out.Object, "spec", "selector")
	if sel == nil {
		sel = map[string]string{}
	}
	sel[LabelColor] = string(c)
	_ = unstructured.SetNestedStringMap(out.Object, sel, "spec", "selector")
	return out
}

// colored returns a copy of obj named and labelled for colour c.
func colored(obj *unstructured.Unstructured, c Color) *unstructured.Unstructured {
	out := obj.DeepCopy()
	out.SetName(ColoredName(obj.GetName(), c))
	lbls := out.GetLabels()
	if lbls == nil {
		lbls = map[string]string{}
	}
	lbls[LabelColor] = string(c)
	out.SetLabels(lbls)
	return out
}

// selectorOf reads the label selector at fields of obj; a missing one is empty.
func selectorOf(obj *unstructured.Unstructured, fields ...string) (labels.Selector, error) {
	raw, found, err := unstructured.NestedMap(obj.Object, fields...)
	if err != nil {
		return nil, err
	}
	if !found {
		return labels.Everything(), nil
	}
	ls := &metav1.LabelSelector{}
	if err := fromMap(raw, ls); err != nil {
		return nil, err
	}
	return metav1.LabelSelectorAsSelector(ls)
}

// checkCollisions refuses a plan in which two objects have the same name: a coloured copy
// named like an object the repository declares (the hand-written colours of old), or a
// preview named like a Service.
func (s *splitter) checkCollisions() {
	seen := map[render.Ref]bool{}
	for _, part := range [][]*unstructured.Unstructured{s.plan.Shared, s.plan.Colored, s.plan.routers, s.plan.Previews, s.plan.Smoke} {
		for _, u := range part {
			k := key(render.RefOf(u))
			if seen[k] {
				s.errs = append(s.errs, fmt.Errorf("%s: metadata.name: two objects of the colour %s plan have this name (a coloured copy or a preview Service collides with an object of the repository): rename one of them",
					render.RefOf(u), s.plan.Idle))
			}
			seen[k] = true
		}
	}
}

// key identifies an object regardless of its API version.
func key(r render.Ref) render.Ref {
	r.Version = ""
	return r
}

func fromMap(m map[string]any, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(m, into)
}
