package apply

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-agent/gitops-agent/render"
)

// Stage is one step of a staged apply. Apply finishes a stage before it starts the next,
// because later objects depend on earlier ones: a custom resource needs its
// CustomResourceDefinition served, a namespaced object needs its Namespace, and a RoleBinding
// reads better after its ClusterRole. A stage with a failed object stops the stages after it.
type Stage int

// The stages, in the order Apply runs them.
const (
	// StageCRDs holds CustomResourceDefinitions; Apply waits until they are Established and
	// refreshes its discovery before the next stage.
	StageCRDs Stage = iota
	// StageNamespaces holds Namespaces.
	StageNamespaces
	// StageClusterScoped holds every other cluster-scoped object.
	StageClusterScoped
	// StageNamespaced holds every namespaced object.
	StageNamespaced
)

// Stages lists the stages in the order Apply runs them.
func Stages() []Stage {
	return []Stage{StageCRDs, StageNamespaces, StageClusterScoped, StageNamespaced}
}

func (s Stage) String() string {
	switch s {
	case StageCRDs:
		return "CustomResourceDefinitions"
	case StageNamespaces:
		return "Namespaces"
	case StageClusterScoped:
		return "cluster-scoped objects"
	case StageNamespaced:
		return "namespaced objects"
	}
	return "unknown stage"
}

func isCRD(gk schema.GroupKind) bool {
	return gk.Group == "apiextensions.k8s.io" && gk.Kind == "CustomResourceDefinition"
}

func isNamespace(gk schema.GroupKind) bool { return gk.Group == "" && gk.Kind == "Namespace" }

func isSecret(gk schema.GroupKind) bool { return gk.Group == "" && gk.Kind == "Secret" }

// StageOf returns the stage of an object of kind gk; namespaced tells the kind's scope, which
// only the cluster knows for custom resources.
func StageOf(gk schema.GroupKind, namespaced bool) Stage {
	switch {
	case isCRD(gk):
		return StageCRDs
	case isNamespace(gk):
		return StageNamespaces
	case !namespaced:
		return StageClusterScoped
	}
	return StageNamespaced
}

// compareRefs orders objects inside a stage: by group, kind, namespace and name, so that the
// change set reads the same on every run.
func compareRefs(a, b render.Ref) int {
	return cmp.Or(
		cmp.Compare(a.Group, b.Group),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
	)
}

// sortTargets sorts a stage's objects stably by reference.
func sortTargets(ts []*target) {
	slices.SortStableFunc(ts, func(a, b *target) int { return compareRefs(a.ref, b.ref) })
}
