package policy

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitops-agent/gitops-agent/render"
)

// TestEvaluateAsksForTheRulesThatApply checks that each object gets the results of every rule
// whose bodies apply to it, in sets whose queries are split by rule and in larger ones that are
// not (see ruleMask).
func TestEvaluateAsksForTheRulesThatApply(t *testing.T) {
	objs := []render.Object{
		fixture(t, "configmap-plain"),
		fixture(t, "pod-bare"),
		fixture(t, "service-matching"),
		fixture(t, "deployment-compliant"),
	}
	tests := []struct {
		name string
		dir  string
		want []brief
	}{
		{
			name: "more rules than queries are split by",
			dir:  "testdata/rego/manyrules",
			want: []brief{
				{"ConfigMap/plain", "deny_always", Deny, "", ""},
				{"ConfigMap/plain", "deny_configmap", Deny, "", ""},
				{"ConfigMap/plain", "violation_named", Deny, "", ""},
				{"ConfigMap/plain", "warn_configmap", Warn, "", ""},
				{"Pod/debug", "deny_always", Deny, "", ""},
				{"Pod/debug", "deny_pod", Deny, "", ""},
				{"Service/api", "deny_always", Deny, "", ""},
				{"Service/api", "deny_service", Deny, "", ""},
				{"Deployment/api", "deny_always", Deny, "", ""},
				{"Deployment/api", "warn_deployment", Warn, "", ""},
			},
		},
		{
			name: "few rules, one query per combination",
			dir:  "testdata/rego/thirdparty",
			want: []brief{
				{"Service/api", "violation", Deny, "", ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := loadTestRego(t, tt.dir, DefaultRegoOptions())
			found, err := set.Evaluate(context.Background(), "test", objs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, briefs(found), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}
