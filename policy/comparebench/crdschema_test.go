package comparebench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

// writeCRDSchemas writes kubeconform's schema of each served version of every CRD among objs
// to dir, named as schemaTemplate expects, and returns how many it wrote. kubeconform's
// schemas of custom resources are usually made by its openapi2jsonschema.py from the CRDs;
// this does the same for the corpus, offline.
func writeCRDSchemas(objs []render.Object, dir string) (int, error) {
	var n int
	for _, o := range objs {
		if o.Obj.GetAPIVersion() != "apiextensions.k8s.io/v1" || o.Obj.GetKind() != "CustomResourceDefinition" {
			continue
		}
		wrote, err := writeCRDSchema(o.Obj.Object, dir)
		if err != nil {
			return n, fmt.Errorf("%s (%s): %w", o.Ref(), o.Source, err)
		}
		n += wrote
	}
	return n, nil
}

func writeCRDSchema(crd map[string]any, dir string) (int, error) {
	group, _, _ := unstructured.NestedString(crd, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd, "spec", "names", "kind")
	versions, _, err := unstructured.NestedSlice(crd, "spec", "versions")
	if group == "" || kind == "" || err != nil {
		return 0, fmt.Errorf("spec.group, spec.names.kind or spec.versions is missing or malformed (%v)", err)
	}
	var n int
	for i, v := range versions {
		version, _ := v.(map[string]any)
		name, _ := version["name"].(string)
		if served, _ := version["served"].(bool); !served {
			continue
		}
		openAPI, ok, _ := unstructured.NestedMap(version, "schema", "openAPIV3Schema")
		if name == "" || !ok {
			return n, fmt.Errorf("spec.versions[%d] has no name or no schema.openAPIV3Schema", i)
		}
		schema, err := strictSchema(openAPI)
		if err != nil {
			return n, fmt.Errorf("spec.versions[%d].schema.openAPIV3Schema: %w", i, err)
		}
		data, err := json.Marshal(schema)
		if err != nil {
			return n, fmt.Errorf("spec.versions[%d]: encode the schema: %w", i, err)
		}
		file := filepath.Join(dir, strings.ToLower(kind)+"-"+strings.ToLower(strings.Split(group, ".")[0])+"-"+strings.ToLower(name)+".json")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			return n, fmt.Errorf("write kubeconform schema: %w", err)
		}
		n++
	}
	return n, nil
}

// strictSchema turns a CRD's structural OpenAPI v3 schema into the JSON schema kubeconform
// validates with (draft 4), as openapi2jsonschema.py does: nullable allows null,
// x-kubernetes-int-or-string without a type allows both, and an object with properties rejects
// fields it does not declare unless it preserves unknown fields.
func strictSchema(s map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(s)+1)
	for key, v := range s {
		switch key {
		case "properties", "patternProperties", "definitions":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s is a %T, want a map of schemas", key, v)
			}
			converted := make(map[string]any, len(m))
			for name, sub := range m {
				c, err := strictSubSchema(sub)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", key, name, err)
				}
				converted[name] = c
			}
			out[key] = converted
		case "allOf", "anyOf", "oneOf":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s is a %T, want a list of schemas", key, v)
			}
			converted := make([]any, len(list))
			for i, sub := range list {
				c, err := strictSubSchema(sub)
				if err != nil {
					return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
				}
				converted[i] = c
			}
			out[key] = converted
		case "items", "additionalProperties", "not":
			if b, ok := v.(bool); ok {
				out[key] = b
				continue
			}
			c, err := strictSubSchema(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			out[key] = c
		case "nullable":
		default:
			out[key] = v
		}
	}
	_, hasType := out["type"]
	_, hasAnyOf := out["anyOf"]
	if out["x-kubernetes-int-or-string"] == true && !hasType && !hasAnyOf {
		out["anyOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
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

func strictSubSchema(v any) (map[string]any, error) {
	s, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("is a %T, want a schema", v)
	}
	return strictSchema(s)
}

func TestStrictSchema(t *testing.T) {
	str := map[string]any{"type": "string"}
	tests := []struct {
		name    string
		in      map[string]any
		want    map[string]any
		wantErr string
	}{
		{
			name: "objects with properties reject other fields, nested ones too",
			in: map[string]any{"type": "object", "properties": map[string]any{
				"ports": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{"name": str}}},
			}},
			want: map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
				"ports": map[string]any{"type": "array", "items": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{"name": str}}},
			}},
		},
		{
			name: "preserved unknown fields stay open",
			in:   map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": map[string]any{"a": str}},
			want: map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": map[string]any{"a": str}},
		},
		{
			name: "maps keep their value schema",
			in:   map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "object", "properties": map[string]any{"a": str}}},
			want: map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{"a": str}}},
		},
		{
			name: "nullable allows null",
			in:   map[string]any{"type": "string", "nullable": true},
			want: map[string]any{"type": []any{"string", "null"}},
		},
		{
			name: "nullable without type",
			in:   map[string]any{"x-kubernetes-int-or-string": true, "nullable": true},
			want: map[string]any{"anyOf": []any{
				map[string]any{"type": "null"},
				map[string]any{"x-kubernetes-int-or-string": true, "anyOf": []any{map[string]any{"type": "integer"}, str}},
			}},
		},
		{
			name: "int-or-string with its anyOf is kept",
			in:   map[string]any{"x-kubernetes-int-or-string": true, "anyOf": []any{map[string]any{"type": "integer"}, str}, "pattern": "^[0-9]+$"},
			want: map[string]any{"x-kubernetes-int-or-string": true, "anyOf": []any{map[string]any{"type": "integer"}, str}, "pattern": "^[0-9]+$"},
		},
		{
			name:    "malformed properties",
			in:      map[string]any{"type": "object", "properties": map[string]any{"spec": map[string]any{"properties": map[string]any{"size": "integer"}}}},
			wantErr: "properties.spec: properties.size: is a string, want a schema",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := strictSchema(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("schema (-want +got):\n%s", diff)
			}
		})
	}
}
