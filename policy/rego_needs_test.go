package policy

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/open-policy-agent/opa/v1/ast"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

func TestMayRead(t *testing.T) {
	tests := []struct {
		ref  string
		want bool
	}{
		{"data.gitops.objects", true},
		{"data.gitops.objects.shop.Deployment", true},
		{"data.gitops.objects[ns][kind]", true},
		{"data.gitops", true},
		{"data", true},
		{"data[x].objects", true},
		{"data.gitops[x]", true},
		{"data.gitops.pod_templates", false},
		{"data.gitops.lib.containers", false},
		{"data.main.deny", false},
		{"input.gitops.objects", false},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			if got := mayRead(ast.MustParseRef(tt.ref), gitopsObjectsPath); got != tt.want {
				t.Errorf("mayRead(%s, data.gitops.objects) = %v, want %v", tt.ref, got, tt.want)
			}
		})
	}
}

func TestDataNeeds(t *testing.T) {
	tests := []struct {
		dir  string
		want dataNeeds
	}{
		{"../policies", dataNeeds{podTemplates: true}},
		{"testdata/rego/objectsdata", dataNeeds{objects: true}},
		{"testdata/rego/thirdparty", dataNeeds{}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			set := loadTestRego(t, tt.dir, RegoOptions{AllNamespaces: true})
			if set.needs != tt.want {
				t.Errorf("needs = %+v, want %+v", set.needs, tt.want)
			}
		})
	}
}

// TestEvaluateBuildsObjectsWhenRead checks that a rule reading data.gitops.objects sees every
// object of the environment, also those that no rule applies to.
func TestEvaluateBuildsObjectsWhenRead(t *testing.T) {
	set := loadTestRego(t, "testdata/rego/objectsdata", DefaultRegoOptions())
	deployment := fixture(t, "deployment-compliant")
	pdb := render.Object{Obj: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy/v1",
		"kind":       "PodDisruptionBudget",
		"metadata":   map[string]any{"name": "api", "namespace": "shop"},
	}}}
	for _, tt := range []struct {
		name string
		objs []render.Object
		want []brief
	}{
		{"with a PodDisruptionBudget", []render.Object{deployment, pdb}, nil},
		{"without", []render.Object{deployment}, []brief{{"Deployment/api", "deny", Deny, "", ""}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			found, err := set.Evaluate(context.Background(), "test", tt.objs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, briefs(found), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInputResolver(t *testing.T) {
	obj := map[string]any{
		"kind":     "Deployment",
		"metadata": map[string]any{"labels": map[string]any{"app": "api"}},
		"spec":     map[string]any{"ports": []any{map[string]any{"port": int64(80)}}},
		"typed":    map[string]string{"k": "v"},
	}
	tests := []struct {
		ref     string
		want    ast.Value // nil: undefined
		unknown bool
	}{
		{"input.kind", ast.String("Deployment"), false},
		{"input.metadata.labels.app", ast.String("api"), false},
		{"input.metadata.labels", ast.MustParseTerm(`{"app": "api"}`).Value, false},
		{"input.spec.ports[0].port", ast.Number("80"), false},
		{"input.spec.ports[1]", nil, false},
		{"input.spec.ports.x", nil, false},
		{"input.kind.x", nil, false},
		{"input.absent", nil, false},
		{"input.typed.k", ast.String("v"), false},
		{"data.x", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := inputResolver{obj}.Resolve(ast.MustParseRef(tt.ref))
			if _, ok := err.(ast.UnknownValueErr); ok != tt.unknown {
				t.Fatalf("error %v, want unknown %v", err, tt.unknown)
			}
			if (got == nil) != (tt.want == nil) || (got != nil && got.Compare(tt.want) != 0) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
