package drift

import (
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
)

// typeConverter knows the structured-merge-diff schema of every built-in kind: the same list
// keys, atomic lists and field types the API server's server-side apply uses. It is built
// once, on first use, and never changes.
var typeConverter = sync.OnceValue(func() managedfields.TypeConverter {
	return applyconfigurations.NewTypeConverter(scheme.Scheme)
})

// typeInfo is a position in a kind's schema; the zero value means the schema is unknown
// (custom resources), and the comparison falls back to listKeysByName.
type typeInfo struct {
	schema *smdschema.Schema
	ref    smdschema.TypeRef
}

// typeOf returns the schema of gvk's root, or the zero typeInfo for a kind the built-in schema
// does not know.
func typeOf(gvk schema.GroupVersionKind) typeInfo {
	probe := &unstructured.Unstructured{}
	probe.SetGroupVersionKind(gvk)
	tv, err := typeConverter().ObjectToTyped(probe)
	if err != nil {
		return typeInfo{}
	}
	return typeInfo{schema: tv.Schema(), ref: tv.TypeRef()}
}

func (t typeInfo) known() bool { return t.schema != nil }

func (t typeInfo) atom() (smdschema.Atom, bool) {
	if t.schema == nil {
		return smdschema.Atom{}, false
	}
	return t.schema.Resolve(t.ref)
}

// field returns the type of a map's field name.
func (t typeInfo) field(name string) typeInfo {
	a, ok := t.atom()
	if !ok || a.Map == nil {
		return typeInfo{}
	}
	if f, ok := a.Map.FindField(name); ok {
		return typeInfo{schema: t.schema, ref: f.Type}
	}
	if a.Map.ElementType.NamedType != nil || a.Map.ElementType.Inlined != (smdschema.Atom{}) {
		return typeInfo{schema: t.schema, ref: a.Map.ElementType}
	}
	return typeInfo{}
}

// elem returns the type of a list's items.
func (t typeInfo) elem() typeInfo {
	a, ok := t.atom()
	if !ok || a.List == nil {
		return typeInfo{}
	}
	return typeInfo{schema: t.schema, ref: a.List.ElementType}
}

// atomicMap reports whether a map is owned as a whole.
func (t typeInfo) atomicMap() bool {
	a, ok := t.atom()
	return ok && a.Map != nil && a.Map.ElementRelationship == smdschema.Atomic
}

// scalar returns the scalar type, or "" when unknown.
func (t typeInfo) scalar() smdschema.Scalar {
	a, ok := t.atom()
	if !ok || a.Scalar == nil {
		return ""
	}
	return *a.Scalar
}

// keyDefault returns the schema default of an item field, such as protocol TCP of ports.
func (t typeInfo) keyDefault(field string) (any, bool) {
	a, ok := t.atom()
	if !ok || a.Map == nil {
		return nil, false
	}
	f, ok := a.Map.FindField(field)
	if !ok || f.Default == nil {
		return nil, false
	}
	return f.Default, true
}
