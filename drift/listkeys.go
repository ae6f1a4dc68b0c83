package drift

import (
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
)

// listKind is how the items of a desired list are matched to live ones.
type listKind int

const (
	// listAtomic lists are owned whole and matched by index; a different length is a change
	// of the whole list.
	listAtomic listKind = iota
	// listKeyed lists are maps in disguise: items are matched by their key fields.
	listKeyed
	// listSet lists hold scalars matched by value; other managers may add their own.
	listSet
)

// listKeysByName are the list keys of the built-in kinds for lists whose schema is unknown:
// custom resources embed pod templates and service ports under the same names. Any other list
// of a custom resource is atomic, as the API server treats it without a schema.
var listKeysByName = map[string][]string{
	"containers":          {"name"},
	"initContainers":      {"name"},
	"ephemeralContainers": {"name"},
	"env":                 {"name"},
	"volumes":             {"name"},
	"volumeMounts":        {"name"},
	"volumeDevices":       {"name"},
	"imagePullSecrets":    {"name"},
}

// portKeys are the keys of a ports list, by the field that tells container ports from
// service ports.
var portKeys = map[string][]string{
	"containerPort": {"containerPort", "protocol"},
	"port":          {"port", "protocol"},
}

// keyDefaults fill a key field the desired item leaves out, for lists without a schema.
var keyDefaults = map[string]any{"protocol": "TCP"}

// listKindOf returns how to match the items of the list named field of type t, whose desired
// items are items, and the key fields of a keyed list.
func listKindOf(t typeInfo, field string, items []any) (listKind, []string) {
	if a, ok := t.atom(); ok && a.List != nil {
		switch {
		case a.List.ElementRelationship != smdschema.Associative:
			return listAtomic, nil
		case len(a.List.Keys) > 0:
			return listKeyed, a.List.Keys
		default:
			return listSet, nil
		}
	}
	if t.known() {
		return listAtomic, nil
	}
	keys := listKeysByName[field]
	if field == "ports" {
		keys = nil
		for marker, k := range portKeys {
			if allHave(items, marker) {
				keys = k
			}
		}
	}
	if keys == nil || !allHave(items, keys[0]) {
		return listAtomic, nil
	}
	return listKeyed, keys
}

// allHave reports whether every item is a map with the field.
func allHave(items []any, field string) bool {
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m[field]; !ok {
			return false
		}
	}
	return len(items) > 0
}

// keyDefault returns the default of a key field the desired item leaves out.
func keyDefault(item typeInfo, field string) (any, bool) {
	if item.known() {
		return item.keyDefault(field)
	}
	v, ok := keyDefaults[field]
	return v, ok
}
