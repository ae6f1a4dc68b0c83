package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

func TestMergeKeepsOneFindingPerProblem(t *testing.T) {
	ing := render.Ref{Group: "extensions", Version: "v1beta1", Kind: "Ingress", Namespace: "shop", Name: "web"}
	hpa := render.Ref{Group: "autoscaling", Version: "v2beta2", Kind: "HorizontalPodAutoscaler", Namespace: "shop", Name: "web"}
	api := render.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}
	schema := []Finding{
		{Object: ing, Rule: RuleDeprecatedAPI, Severity: Deny, Field: "apiVersion", Message: "from the scheme"},
		{Object: hpa, Rule: RuleSchema, Severity: Deny, Field: "apiVersion", Message: "not served"},
		{Object: api, Rule: RuleSchema, Severity: Deny, Field: "spec.replicas", Message: "expected an integer"},
	}
	policies := []Finding{
		{Object: ing, Rule: RuleDeprecatedAPI, Severity: Deny, Field: "apiVersion", Message: "from the policy"},
		{Object: hpa, Rule: RuleDeprecatedAPI, Severity: Deny, Field: "apiVersion", Message: "removed in 1.26"},
		{Object: api, Rule: "probes", Severity: Warn, Field: "spec.replicas", Message: "unrelated warning"},
	}
	want := []Finding{
		{Object: ing, Rule: RuleDeprecatedAPI, Severity: Deny, Field: "apiVersion", Message: "from the scheme"},
		{Object: api, Rule: RuleSchema, Severity: Deny, Field: "spec.replicas", Message: "expected an integer"},
		{Object: hpa, Rule: RuleDeprecatedAPI, Severity: Deny, Field: "apiVersion", Message: "removed in 1.26"},
		{Object: api, Rule: "probes", Severity: Warn, Field: "spec.replicas", Message: "unrelated warning"},
	}
	if diff := cmp.Diff(want, merge(schema, policies)); diff != "" {
		t.Errorf("merge (-want +got):\n%s", diff)
	}
}

func TestExemptSchemaFindings(t *testing.T) {
	cr := render.Object{Obj: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.org/v1", "kind": "Gadget",
		"metadata": map[string]any{"name": "g", "namespace": "shop", "annotations": map[string]any{
			ExemptAnnotationPrefix + RuleSchemaUnknownKind: "the CRD is installed by the platform team",
		}},
	}}}
	findings := []Finding{
		{Object: cr.Ref(), Rule: RuleSchemaUnknownKind, Severity: Deny},
		{Object: render.Ref{Kind: "ConfigMap", Namespace: "shop", Name: "other"}, Rule: RuleSchemaUnknownKind, Severity: Deny},
	}
	exemptSchemaFindings([]render.Object{cr}, findings)
	if findings[0].Exempted != "the CRD is installed by the platform team" || findings[0].Blocks() {
		t.Errorf("the annotated object's finding is not exempted: %+v", findings[0])
	}
	if findings[1].Exempted != "" {
		t.Errorf("another object's finding is exempted: %+v", findings[1])
	}
}
