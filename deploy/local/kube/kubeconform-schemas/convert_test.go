package main

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFileName(t *testing.T) {
	tests := []struct {
		kind gvk
		want string
	}{
		{gvk{"", "v1", "Service"}, "service-v1.json"},
		{gvk{"apps", "v1", "Deployment"}, "deployment-apps-v1.json"},
		{gvk{"networking.k8s.io", "v1", "Ingress"}, "ingress-networking-v1.json"},
		{gvk{"autoscaling", "v2", "HorizontalPodAutoscaler"}, "horizontalpodautoscaler-autoscaling-v2.json"},
		{gvk{"apiextensions.k8s.io", "v1", "CustomResourceDefinition"}, "customresourcedefinition-apiextensions-v1.json"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.kind.fileName(); got != tt.want {
				t.Errorf("fileName() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestKindSchemas(t *testing.T) {
	defs, err := readSpec(t.Context(), "testdata/spec")
	if err != nil {
		t.Fatal(err)
	}
	got, err := kindSchemas(defs)
	if err != nil {
		t.Fatal(err)
	}
	objectMeta := map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"properties": map[string]any{
			"name":   map[string]any{"type": "string"},
			"labels": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string", "default": ""}},
		},
	}
	metadata := map[string]any{
		"allOf":   []any{map[string]any{"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}},
		"default": map[string]any{},
	}
	want := map[string]map[string]any{
		"configmap-v1.json": {
			"$schema":              draft4,
			"type":                 "object",
			"additionalProperties": false,
			"properties": map[string]any{
				"apiVersion": map[string]any{"type": "string"},
				"kind":       map[string]any{"type": "string"},
				"metadata":   metadata,
				"data":       map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string", "default": ""}},
				// Unknown fields are preserved: not strict.
				"extra": map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"type": "string"}}, "x-kubernetes-preserve-unknown-fields": true},
			},
			gvkExtension:  []any{map[string]any{"group": "", "kind": "ConfigMap", "version": "v1"}},
			"definitions": map[string]any{"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": objectMeta},
		},
		"deployment-apps-v1.json": {
			"$schema":              draft4,
			"description":          "Deployment enables declarative updates for Pods and ReplicaSets.",
			"type":                 "object",
			"required":             []any{"spec"},
			"additionalProperties": false,
			"properties": map[string]any{
				"apiVersion": map[string]any{"type": "string"},
				"kind":       map[string]any{"type": "string"},
				"metadata":   metadata,
				"spec": map[string]any{
					"allOf":   []any{map[string]any{"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"}},
					"default": map[string]any{},
				},
			},
			gvkExtension: []any{map[string]any{"group": "apps", "kind": "Deployment", "version": "v1"}},
			"definitions": map[string]any{
				"io.k8s.api.apps.v1.DeploymentSpec": map[string]any{
					"type":                 "object",
					"additionalProperties": false,
					"properties": map[string]any{
						"replicas": map[string]any{"type": "integer", "format": "int32"},
						"maxSurge": map[string]any{"allOf": []any{map[string]any{"$ref": "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"}}},
						"paused":   map[string]any{"type": []any{"boolean", "null"}},
					},
				},
				"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": objectMeta,
				"io.k8s.apimachinery.pkg.util.intstr.IntOrString": map[string]any{
					"format": "int-or-string",
					"oneOf":  []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}},
				},
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schemas (-want +got):\n%s", diff)
	}
}

func TestKindSchemasErrors(t *testing.T) {
	kind := func(group, name string) map[string]any {
		return map[string]any{
			"type":       "object",
			"properties": map[string]any{"spec": map[string]any{"$ref": "#/components/schemas/" + name + "Spec"}},
			gvkExtension: []any{map[string]any{"group": group, "kind": "Widget", "version": "v1"}},
		}
	}
	tests := []struct {
		name string
		defs map[string]map[string]any
		want string
	}{
		{
			name: "dangling reference",
			defs: map[string]map[string]any{"a.Widget": kind("a.example.com", "a.Widget")},
			want: "refers to definition a.WidgetSpec, which the spec does not define",
		},
		{
			name: "same file name",
			defs: map[string]map[string]any{
				"a.Widget": kind("shop.example.com", "a.Widget"), "a.WidgetSpec": {"type": "object"},
				"b.Widget": kind("shop.example.org", "b.Widget"), "b.WidgetSpec": {"type": "object"},
			},
			want: "would both be written to widget-shop-v1.json",
		},
		{
			name: "reference outside the spec",
			defs: map[string]map[string]any{"a.Thing": {"$ref": "other.json#/Thing"}},
			want: `definition a.Thing: $ref: reference other.json#/Thing does not point into #/components/schemas/`,
		},
		{
			name: "no kinds",
			defs: map[string]map[string]any{"a.Thing": {"type": "string"}},
			want: "the spec declares no kinds",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kindSchemas(tt.defs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("kindSchemas error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestReadSpecRejectsInconsistentDefinitions(t *testing.T) {
	dir := t.TempDir()
	for file, typ := range map[string]string{"a.json": "string", "b.json": "integer"} {
		doc := `{"components": {"schemas": {"io.k8s.Thing": {"type": "` + typ + `"}}}}`
		if err := os.WriteFile(filepath.Join(dir, file), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := readSpec(t.Context(), dir)
	if err == nil || !strings.Contains(err.Error(), "definition io.k8s.Thing differs between") {
		t.Errorf("readSpec error = %v, want one naming the inconsistent definition", err)
	}
}

func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "schemas")
	tests := []struct {
		name      string
		args      []string
		code      int
		stderr    string
		wantFiles []string
	}{
		{name: "no flags", code: 2, stderr: "-spec is required"},
		{name: "no out", args: []string{"-spec", "testdata/spec"}, code: 2, stderr: "-out is required"},
		{name: "no spec files", args: []string{"-spec", t.TempDir(), "-out", out}, code: 1, stderr: "holds no .json files"},
		{name: "writes schemas", args: []string{"-spec", "testdata/spec", "-out", out}, stderr: "wrote 2 schemas",
			wantFiles: []string{"configmap-v1.json", "deployment-apps-v1.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stderr); code != tt.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.stderr)
			}
			if tt.wantFiles == nil {
				return
			}
			entries, err := os.ReadDir(out)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, e := range entries {
				got[e.Name()] = true
			}
			if diff := cmp.Diff(tt.wantFiles, slices.Sorted(maps.Keys(got))); diff != "" {
				t.Errorf("files written (-want +got):\n%s", diff)
			}
		})
	}
}
