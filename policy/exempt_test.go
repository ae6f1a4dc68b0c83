package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

func TestApplyExemptions(t *testing.T) {
	annotations := map[string]string{
		ExemptAnnotationPrefix + "image-tag":         "pinned by the vendor's release process",
		ExemptAnnotationPrefix + "probes":            "  ",
		ExemptAnnotationPrefix + RuleExemptionReason: "trying to silence the exemption check",
		"example.com/unrelated":                      "x",
	}
	findings := []Finding{
		{Rule: "image-tag", Severity: Deny},
		{Rule: "probes", Severity: Warn},
		{Rule: "resources", Severity: Deny},
		{Rule: "deny", Severity: Deny, Exempted: "conftest exception in package main"},
		{Rule: RuleExemptionReason, Severity: Deny},
	}
	ApplyExemptions(annotations, findings)
	ApplyExemptions(annotations, findings) // twice changes nothing
	want := []Finding{
		{Rule: "image-tag", Severity: Deny, Exempted: "pinned by the vendor's release process"},
		{Rule: "probes", Severity: Warn},
		{Rule: "resources", Severity: Deny},
		{Rule: "deny", Severity: Deny, Exempted: "conftest exception in package main"},
		{Rule: RuleExemptionReason, Severity: Deny},
	}
	if diff := cmp.Diff(want, findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestExemptionFindings(t *testing.T) {
	obj := render.Object{Source: "manifests/shop/api.yaml", Obj: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata": map[string]any{
			"name":      "api",
			"namespace": "shop",
			"annotations": map[string]any{
				ExemptAnnotationPrefix + "image-tag": "pinned by digest in the overlay",
				ExemptAnnotationPrefix + "probes":    "",
				ExemptAnnotationPrefix:               "everything",
			},
		},
	}}}
	ref := render.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}
	want := []Finding{
		{
			Env: "prod", Object: ref, Source: "manifests/shop/api.yaml", Rule: RuleExemptionReason, Severity: Deny,
			Field:   "metadata.annotations[policy.gitops-agent.io/exempt.]",
			Message: `annotation policy.gitops-agent.io/exempt. names no rule; write policy.gitops-agent.io/exempt.<rule-id>: "<reason>"`,
		},
		{
			Env: "prod", Object: ref, Source: "manifests/shop/api.yaml", Rule: RuleExemptionReason, Severity: Deny,
			Field:   "metadata.annotations[policy.gitops-agent.io/exempt.probes]",
			Message: "the exemption from rule probes gives no reason, so it does not apply; write why the rule does not apply to this object as the annotation's value",
		},
	}
	if diff := cmp.Diff(want, ExemptionFindings("prod", obj)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
