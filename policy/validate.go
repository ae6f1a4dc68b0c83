package policy

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitops-agent/gitops-agent/render"
)

// Validator runs every check a commit must pass before it is applied: the offline schema
// check, then the Rego policies. It is safe for concurrent use.
type Validator struct {
	schema *SchemaValidator
	rego   func() *RegoSet
}

// NewValidator combines a schema validator with a source of the current Rego policy set (a
// fixed set, or the latest that compiled when policies are reloaded on change).
func NewValidator(schema *SchemaValidator, rego func() *RegoSet) *Validator {
	return &Validator{schema: schema, rego: rego}
}

// Validate returns the findings of every check on an environment's objects. An error means the
// checks could not run (not that objects are invalid) and the commit must not be applied.
func (v *Validator) Validate(ctx context.Context, env string, objs []render.Object) ([]Finding, error) {
	findings, err := v.schema.Validate(ctx, env, objs)
	if err != nil {
		return nil, fmt.Errorf("schema check of %s: %w", env, err)
	}
	exemptSchemaFindings(objs, findings)
	set := v.rego()
	if set == nil {
		return nil, fmt.Errorf("policies of %s: no policy set has compiled yet", env)
	}
	policyFindings, err := set.Evaluate(ctx, env, objs)
	if err != nil {
		return nil, fmt.Errorf("policies of %s: %w", env, err)
	}
	return merge(findings, policyFindings), nil
}

// exemptSchemaFindings honours exemption annotations on schema findings too (a custom resource
// whose CRD is installed out of band, say), as the policy engine does on its own.
func exemptSchemaFindings(objs []render.Object, findings []Finding) {
	var annotated map[render.Ref]map[string]string
	for _, o := range objs {
		for key := range o.Obj.GetAnnotations() {
			if strings.HasPrefix(key, ExemptAnnotationPrefix) {
				if annotated == nil {
					annotated = map[render.Ref]map[string]string{}
				}
				annotated[o.Ref()] = o.Obj.GetAnnotations()
				break
			}
		}
	}
	if annotated == nil {
		return
	}
	for i := range findings {
		if a, ok := annotated[findings[i].Object]; ok {
			ApplyExemptions(a, findings[i:i+1])
		}
	}
}

// merge keeps one finding per problem. The schema check and the policies can explain the same
// field: an identical object, rule and field is reported once (the schema check's, which comes
// from the API version's own scheme), and a generic schema denial of a field that a named
// policy rule also denies gives way to the policy's more specific explanation.
func merge(schema, policies []Finding) []Finding {
	type fieldKey struct {
		object render.Ref
		field  string
	}
	type ruleKey struct {
		fieldKey
		rule string
	}
	policyDenied := map[fieldKey]bool{}
	for _, f := range policies {
		if f.Severity == Deny && f.Field != "" {
			policyDenied[fieldKey{f.Object, f.Field}] = true
		}
	}
	seen := map[ruleKey]bool{}
	out := make([]Finding, 0, len(schema)+len(policies))
	for _, group := range [][]Finding{schema, policies} {
		for _, f := range group {
			fk := fieldKey{f.Object, f.Field}
			rk := ruleKey{fk, f.Rule}
			if seen[rk] || (f.Rule == RuleSchema && f.Severity == Deny && policyDenied[fk]) {
				continue
			}
			seen[rk] = true
			out = append(out, f)
		}
	}
	return out
}
