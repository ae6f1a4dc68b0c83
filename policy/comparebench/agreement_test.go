package comparebench

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/policy/policytest"
	"github.com/gitops-agent/gitops-agent/render"
)

// TestKubeconformChecksStrictly makes sure that kubeconform, with the generated schemas,
// really validates built-in kinds and custom resources: a comparison with a kubeconform that
// skips everything, or accepts anything, would be worthless. Ours must agree on each fixture.
func TestKubeconformChecksStrictly(t *testing.T) {
	tools := toolsFromEnv(t)
	ctx := t.Context()
	crds := crdsOf(policytest.Corpus(100))
	crdSchemas := t.TempDir()
	if n, err := writeCRDSchemas(crds, crdSchemas); err != nil || n == 0 {
		t.Fatalf("kubeconform schemas of the corpus's CRDs: wrote %d, error %v", n, err)
	}
	schema, err := policy.NewSchemaValidator(ctx, policy.DefaultSchemaOptions())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		file string
		// want is what kubeconform's message must contain; empty for a valid object.
		want string
	}{
		{file: "deployment-valid.yaml"},
		{file: "deployment-unknown-field.yaml", want: "additional properties 'imagePullPolicyy' not allowed"},
		{file: "deployment-wrong-type.yaml", want: "at '/spec/replicas': got string, want integer"},
		{file: "service-wrong-type.yaml", want: "at '/spec/ports/0/port': got string, want integer"},
		{file: "database-valid.yaml"},
		{file: "database-invalid-enum.yaml", want: "at '/spec/engine'"},
		{file: "featureflag-unknown-field.yaml", want: "additional properties 'rolloutPercent' not allowed"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".yaml"), func(t *testing.T) {
			file := filepath.Join("testdata", tt.file)
			report, _, err := kubeconform(ctx, tools.kubeconform, file, tools.schemas, crdSchemas)
			if err != nil {
				t.Fatal(err)
			}
			s := report.Summary
			switch {
			case report.total() != 1:
				t.Fatalf("kubeconform read %d objects, want 1: %+v", report.total(), report)
			case tt.want == "" && s.Valid != 1:
				t.Errorf("kubeconform does not find the object valid: %+v", report)
			case tt.want != "" && (s.Invalid != 1 || !strings.Contains(report.Resources[0].Msg, tt.want)):
				t.Errorf("kubeconform does not find the object invalid with %q: %+v", tt.want, report)
			}

			objs, err := readCorpus(file)
			if err != nil {
				t.Fatal(err)
			}
			findings, err := schema.Validate(ctx, env, slices.Concat(crds, objs))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := denials(findings) > 0, tt.want != ""; got != want {
				t.Errorf("our schema check denies the object: %t, kubeconform: %t; findings: %+v", got, want, findings)
			}
		})
	}
}

// TestToolsAgreeOnCorpus checks what BenchmarkCompare relies on, on a smaller corpus:
// kubeconform finds every object valid, and conftest reports the findings ours reports.
func TestToolsAgreeOnCorpus(t *testing.T) {
	tools := toolsFromEnv(t)
	ctx := t.Context()
	objs := policytest.Corpus(1000)
	dir := t.TempDir()
	file := filepath.Join(dir, "corpus.yaml")
	if err := writeCorpus(file, objs); err != nil {
		t.Fatal(err)
	}
	crdSchemas := filepath.Join(dir, "crd-schemas")
	if err := os.Mkdir(crdSchemas, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := writeCRDSchemas(objs, crdSchemas); err != nil {
		t.Fatal(err)
	}

	report, _, err := kubeconform(ctx, tools.kubeconform, file, tools.schemas, crdSchemas)
	if err != nil {
		t.Fatal(err)
	}
	checkKubeconform(t, report, len(objs))

	results, _, err := conftest(ctx, tools.conftest, policyDir, file)
	if err != nil {
		t.Fatal(err)
	}
	checkConftest(t, results, expectedConftestCounts(t, ctx, newValidators(t, ctx), objs), len(objs))
}

func crdsOf(objs []render.Object) []render.Object {
	var out []render.Object
	for _, o := range objs {
		if o.Obj.GetKind() == "CustomResourceDefinition" {
			out = append(out, o)
		}
	}
	return out
}
