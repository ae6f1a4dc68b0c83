package drift

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-agent/gitops-agent/render"
)

// Validate reports a rule that cannot match what its author meant: a path that is not a JSON
// pointer, or a name that is not a valid glob.
func (r IgnoreRule) Validate() error {
	if r.Name != "" {
		if _, err := path.Match(r.Name, ""); err != nil {
			return fmt.Errorf("ignore rule name %q is not a valid glob: %w", r.Name, err)
		}
	}
	if len(r.Paths) == 0 {
		return errors.New("ignore rule has no paths: list the JSON pointers to ignore, for example /spec/replicas")
	}
	for _, p := range r.Paths {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("ignore rule path %q is not a JSON pointer: it must start with / (for example /spec/replicas)", p)
		}
	}
	return nil
}

// selects reports whether the rule applies to the object ref names.
func (r IgnoreRule) selects(ref render.Ref) bool {
	if r.Group != "" && r.Group != ref.Group || r.Kind != "" && r.Kind != ref.Kind || r.Namespace != "" && r.Namespace != ref.Namespace {
		return false
	}
	if r.Name == "" {
		return true
	}
	ok, err := path.Match(r.Name, ref.Name)
	return err == nil && ok
}

// ignoredPaths returns the pointers the rules ignore in the object ref names, split into
// segments.
func ignoredPaths(rules []IgnoreRule, ref render.Ref) [][]string {
	var out [][]string
	for _, r := range rules {
		if !r.selects(ref) {
			continue
		}
		for _, p := range r.Paths {
			if strings.HasPrefix(p, "/") {
				out = append(out, strings.Split(p[1:], "/"))
			}
		}
	}
	return out
}

// ignored reports whether the field at ptr is one of the ignored paths or lies below one.
func ignored(paths [][]string, ptr string) bool {
	if len(paths) == 0 {
		return false
	}
	segs := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for _, p := range paths {
		if len(p) <= len(segs) && prefixMatch(p, segs) {
			return true
		}
	}
	return false
}

func prefixMatch(pattern, segs []string) bool {
	for i, s := range pattern {
		if s != "*" && s != segs[i] {
			return false
		}
	}
	return true
}

// IgnoreFor returns the ignore rules that apply to obj, an object of the environment whose
// spec and objects (all of them, to find its HorizontalPodAutoscalers) are given: the valid
// rules of spec.Ignore that select it and, with spec.IgnoreHPAReplicas, the rule of an
// autoscaler that scales it. Pass the result to Compare and UnifiedDiff; the Detector does
// the same for every object. Invalid rules are left out here; SetDesired reports them.
func IgnoreFor(spec EnvSpec, objs []*unstructured.Unstructured, obj *unstructured.Unstructured) []IgnoreRule {
	rules, _ := envRules(spec, objs)
	ref := render.RefOf(obj)
	var out []IgnoreRule
	for _, r := range rules {
		if r.selects(ref) {
			out = append(out, r)
		}
	}
	return out
}

// envRules returns an environment's valid rules, the HPA rules included when asked for, and
// an error for each invalid rule.
func envRules(spec EnvSpec, objs []*unstructured.Unstructured) ([]IgnoreRule, []error) {
	var rules []IgnoreRule
	var errs []error
	for i, r := range spec.Ignore {
		if err := r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ignore rule %d: %w", i+1, err))
			continue
		}
		rules = append(rules, r)
	}
	if spec.IgnoreHPAReplicas {
		rules = append(rules, HPAIgnoreRules(objs)...)
	}
	return rules, errs
}

// hpaGroup is the API group of HorizontalPodAutoscalers, in any version.
const hpaGroup = "autoscaling"

// HPAIgnoreRules returns the rules that ignore /spec/replicas of every workload a
// HorizontalPodAutoscaler among objs scales: the autoscaler owns that field, and reporting
// (or healing) each of its decisions as drift would fight it.
func HPAIgnoreRules(objs []*unstructured.Unstructured) []IgnoreRule {
	var out []IgnoreRule
	for _, o := range objs {
		if o.GetKind() != "HorizontalPodAutoscaler" || o.GroupVersionKind().Group != hpaGroup {
			continue
		}
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "scaleTargetRef", "kind")
		name, _, _ := unstructured.NestedString(o.Object, "spec", "scaleTargetRef", "name")
		apiVersion, _, _ := unstructured.NestedString(o.Object, "spec", "scaleTargetRef", "apiVersion")
		if kind == "" || name == "" {
			continue
		}
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			continue
		}
		out = append(out, IgnoreRule{Group: gv.Group, Kind: kind, Namespace: o.GetNamespace(), Name: globEscape(name), Paths: []string{"/spec/replicas"}})
	}
	return out
}

// globEscape quotes the glob metacharacters of a literal name.
func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}
