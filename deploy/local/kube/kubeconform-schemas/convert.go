package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// draft4 is the JSON Schema draft the files declare: kubeconform's default, and the one whose
// keywords the OpenAPI v3 subset of Kubernetes maps onto without loss.
const draft4 = "http://json-schema.org/draft-04/schema#"

const (
	specRefPrefix = "#/components/schemas/"
	fileRefPrefix = "#/definitions/"
)

// gvk is one API kind.
type gvk struct {
	group, version, kind string
}

// fileName is the name kubeconform's "{{ .ResourceKind }}{{ .KindSuffix }}.json" template gives
// the kind's schema: the lower-case kind, the first label of the group (none for the core
// group) and the version, as in deployment-apps-v1.json, ingress-networking-v1.json and
// service-v1.json.
func (k gvk) fileName() string {
	parts := []string{strings.ToLower(k.kind)}
	if k.group != "" {
		parts = append(parts, strings.ToLower(strings.Split(k.group, ".")[0]))
	}
	parts = append(parts, strings.ToLower(k.version))
	return strings.Join(parts, "-") + ".json"
}

func (k gvk) String() string {
	if k.group == "" {
		return k.version + " " + k.kind
	}
	return k.group + "/" + k.version + " " + k.kind
}

// kindSchemas returns the kubeconform schema of every kind the definitions declare, by file
// name. Each is the kind's definition with the definitions it refers to, directly or not, in a
// "definitions" section.
func kindSchemas(defs map[string]map[string]any) (map[string]map[string]any, error) {
	converted := make(map[string]map[string]any, len(defs))
	refs := make(map[string][]string, len(defs))
	for name, s := range defs {
		used := map[string]bool{}
		c, err := convert(s, used)
		if err != nil {
			return nil, fmt.Errorf("definition %s: %w", name, err)
		}
		converted[name], refs[name] = c, slices.Sorted(maps.Keys(used))
	}

	files := map[string]map[string]any{}
	owner := map[string]gvk{} // file name → the kind written to it
	for _, name := range slices.Sorted(maps.Keys(defs)) {
		kinds, err := kindsOf(defs[name])
		if err != nil {
			return nil, fmt.Errorf("definition %s: %w", name, err)
		}
		// Meta types that every group version serves (DeleteOptions, WatchEvent) list many
		// kinds; they are not objects anybody applies.
		if len(kinds) != 1 {
			continue
		}
		k := kinds[0]
		file := k.fileName()
		if prev, dup := owner[file]; dup {
			return nil, fmt.Errorf("kinds %s and %s would both be written to %s: kubeconform's file names cannot tell them apart", prev, k, file)
		}
		closure, err := referenced(name, refs, converted)
		if err != nil {
			return nil, fmt.Errorf("kind %s: %w", k, err)
		}
		schema := maps.Clone(converted[name])
		schema["$schema"] = draft4
		if len(closure) > 0 {
			section := make(map[string]any, len(closure))
			for _, ref := range closure {
				section[ref] = converted[ref]
			}
			schema["definitions"] = section
		}
		files[file], owner[file] = schema, k
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("the spec declares no kinds (no definition has %s)", gvkExtension)
	}
	return files, nil
}

// kindsOf reads a definition's x-kubernetes-group-version-kind.
func kindsOf(s map[string]any) ([]gvk, error) {
	raw, ok := s[gvkExtension]
	if !ok {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%s is a %T, want a list", gvkExtension, raw)
	}
	out := make([]gvk, 0, len(list))
	for i, item := range list {
		m, _ := item.(map[string]any)
		group, _ := m["group"].(string)
		version, _ := m["version"].(string)
		kind, _ := m["kind"].(string)
		if version == "" || kind == "" {
			return nil, fmt.Errorf("%s[%d] lacks a version or kind: %v", gvkExtension, i, item)
		}
		out = append(out, gvk{group: group, version: version, kind: kind})
	}
	return out, nil
}

// referenced returns the definitions root refers to, directly or through others, sorted.
func referenced(root string, refs map[string][]string, defs map[string]map[string]any) ([]string, error) {
	seen := map[string]bool{}
	queue := slices.Clone(refs[root])
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		if _, ok := defs[name]; !ok {
			return nil, fmt.Errorf("refers to definition %s, which the spec does not define", name)
		}
		seen[name] = true
		queue = append(queue, refs[name]...)
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// convert returns a copy of the OpenAPI v3 schema s as a JSON Schema draft 4 schema, and adds
// the definitions it refers to to used:
//   - references point into the file's own definitions section;
//   - nullable: true allows null;
//   - an object with properties rejects any other field (kubeconform's strict schemas), unless
//     it says x-kubernetes-preserve-unknown-fields or says what other fields may hold.
func convert(s map[string]any, used map[string]bool) (map[string]any, error) {
	out := make(map[string]any, len(s)+1)
	for key, v := range s {
		var err error
		switch key {
		case "$ref":
			out[key], err = convertRef(v, used)
		case "properties", "patternProperties", "definitions":
			out[key], err = convertMap(v, used)
		case "allOf", "anyOf", "oneOf":
			out[key], err = convertList(v, used)
		case "items", "additionalProperties", "additionalItems", "not":
			out[key], err = convertSchemaOrOther(v, used)
		case "nullable":
		default:
			out[key] = v
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	_, hasProperties := out["properties"]
	_, hasAdditional := out["additionalProperties"]
	if hasProperties && !hasAdditional && out["x-kubernetes-preserve-unknown-fields"] != true {
		out["additionalProperties"] = false
	}
	if s["nullable"] == true {
		if t, ok := out["type"].(string); ok {
			out["type"] = []any{t, "null"}
		} else {
			return map[string]any{"anyOf": []any{map[string]any{"type": "null"}, out}}, nil
		}
	}
	return out, nil
}

func convertRef(v any, used map[string]bool) (string, error) {
	ref, _ := v.(string)
	name, ok := strings.CutPrefix(ref, specRefPrefix)
	if !ok || name == "" {
		return "", fmt.Errorf("reference %v does not point into %s", v, specRefPrefix)
	}
	used[name] = true
	return fileRefPrefix + name, nil
}

// convertMap converts a map of schemas (properties and the like).
func convertMap(v any, used map[string]bool) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("is a %T, want a map of schemas", v)
	}
	out := make(map[string]any, len(m))
	for name, item := range m {
		s, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is a %T, want a schema", name, item)
		}
		c, err := convert(s, used)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = c
	}
	return out, nil
}

// convertList converts a list of schemas (allOf and the like).
func convertList(v any, used map[string]bool) ([]any, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("is a %T, want a list of schemas", v)
	}
	out := make([]any, len(list))
	for i, item := range list {
		s, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("[%d] is a %T, want a schema", i, item)
		}
		c, err := convert(s, used)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = c
	}
	return out, nil
}

// convertSchemaOrOther converts a keyword that holds a schema or, in some forms, a boolean
// (additionalProperties) or a list of schemas (items).
func convertSchemaOrOther(v any, used map[string]bool) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		return convert(v, used)
	case []any:
		return convertList(v, used)
	case bool:
		return v, nil
	default:
		return nil, fmt.Errorf("is a %T, want a schema", v)
	}
}
