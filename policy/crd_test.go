package policy

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestHoistedFieldPath(t *testing.T) {
	tests := []struct{ path, want string }{
		{path: "spec.validation.openAPIV3Schema.properties[spec].type", want: "spec.versions[0].schema.openAPIV3Schema.properties[spec].type"},
		{path: "spec.subresources.scale.specReplicasPath", want: "spec.versions[0].subresources.scale.specReplicasPath"},
		{path: "spec.additionalPrinterColumns[0].jsonPath", want: "spec.versions[0].additionalPrinterColumns[0].jsonPath"},
		{path: "spec.versions[1].schema.openAPIV3Schema", want: "spec.versions[1].schema.openAPIV3Schema"},
		{path: "spec.validationRules", want: "spec.validationRules"},
		{path: "metadata.name", want: "metadata.name"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := hoistedFieldPath(tt.path); got != tt.want {
				t.Errorf("hoistedFieldPath(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestLoadCRDDirs(t *testing.T) {
	set, err := loadCRDDirs(context.Background(), newCRDCompiler(), []string{filepath.Join(schemaTestdata, "crds")})
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != 1 {
		t.Fatalf("loaded %d CRDs, want only widgets.example.com (the Namespace and README are no CRDs)", len(set))
	}
	w := set[schema.GroupKind{Group: "example.com", Kind: "Widget"}]
	if w == nil {
		t.Fatal("Widget is missing")
	}
	type version struct {
		Name                string
		Served, Deprecated  bool
		HasSchema, HasRules bool
	}
	var got []version
	for _, name := range w.versionNames(false) {
		v := w.versions[name]
		got = append(got, version{name, v.served, v.deprecated, v.structural != nil, v.cel != nil})
	}
	want := []version{
		{Name: "v1", Served: true, HasSchema: true, HasRules: true},
		{Name: "v1beta1", Served: true, Deprecated: true, HasSchema: true},
		{Name: "v1alpha1", HasSchema: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	if !w.namespaced || w.name != "widgets.example.com" {
		t.Errorf("namespaced = %t, name = %q", w.namespaced, w.name)
	}
}

func TestCopyJSON(t *testing.T) {
	in := map[string]any{"a": []any{1, int32(2), float32(0.5), "s", nil, true, map[string]any{"b": int64(3)}}}
	want := map[string]any{"a": []any{int64(1), int64(2), float64(0.5), "s", nil, true, map[string]any{"b": int64(3)}}}
	got := copyJSON(in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("copyJSON (-want +got):\n%s", diff)
	}
	got.(map[string]any)["a"].([]any)[6].(map[string]any)["b"] = "changed"
	if in["a"].([]any)[6].(map[string]any)["b"] != int64(3) {
		t.Error("copyJSON shares maps with its input")
	}
}
