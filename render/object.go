package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Object is one rendered Kubernetes object together with the repository file that declares it,
// so that a finding or an apply error can point at the file a person edits.
type Object struct {
	// Obj is the object as it will be applied: render bookkeeping (origin annotations and the
	// like) is already stripped.
	Obj *unstructured.Unstructured
	// Source is the repository-relative, slash-separated path of the file that declares the
	// object (for example "manifests/healthcare/eeg/deployment.yaml"); empty when unknown.
	Source string
}

// Ref identifies an object the way people and error messages name it.
type Ref struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// RefOf returns the reference of u.
func RefOf(u *unstructured.Unstructured) Ref {
	gvk := u.GroupVersionKind()
	return Ref{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// Ref returns the object's reference.
func (o Object) Ref() Ref { return RefOf(o.Obj) }

// GroupKind returns the reference's group and kind.
func (r Ref) GroupKind() schema.GroupKind { return schema.GroupKind{Group: r.Group, Kind: r.Kind} }

// String renders the reference as "Kind/namespace/name", or "Kind/name" for cluster-scoped
// objects; the group is added ("Kind.group/...") when the kind is not in the core group, so
// that two kinds of the same name never read alike.
func (r Ref) String() string {
	kind := r.Kind
	if r.Group != "" {
		kind += "." + r.Group
	}
	if r.Namespace == "" {
		return kind + "/" + r.Name
	}
	return kind + "/" + r.Namespace + "/" + r.Name
}
