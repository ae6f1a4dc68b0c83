package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gitops-agent/gitops-agent/render"
)

const (
	// ExemptAnnotationPrefix starts the annotation that exempts an object from one rule:
	// policy.gitops-agent.io/exempt.<rule-id>: "<why the rule does not apply>". The object's
	// findings of that rule are still reported, with the reason, but never block.
	ExemptAnnotationPrefix = "policy.gitops-agent.io/exempt."

	// RuleExemptionReason is the rule of the finding raised for an exemption that gives no
	// reason. It cannot itself be exempted.
	RuleExemptionReason = "exemption-reason"
)

// ApplyExemptions sets Exempted on each finding, of the object that carries annotations, whose
// rule those annotations exempt with a reason. Findings already exempted keep their reason, so
// it is safe to call more than once (on policy findings, then on schema findings).
func ApplyExemptions(annotations map[string]string, findings []Finding) {
	if len(annotations) == 0 {
		return
	}
	for i := range findings {
		f := &findings[i]
		if f.Exempted != "" || f.Rule == RuleExemptionReason {
			continue
		}
		if reason := strings.TrimSpace(annotations[ExemptAnnotationPrefix+f.Rule]); reason != "" {
			f.Exempted = reason
		}
	}
}

// ExemptionFindings returns a deny finding for each exemption annotation of obj that gives no
// reason or names no rule: an exemption must say why, for the next reviewer.
func ExemptionFindings(env string, obj render.Object) []Finding {
	return exemptionFindings(env, obj, annotationsOf(obj))
}

// exemptionFindings is ExemptionFindings for the object's annotations, already read.
func exemptionFindings(env string, obj render.Object, annotations map[string]string) []Finding {
	var out []Finding
	for key, value := range annotations {
		rule, ok := strings.CutPrefix(key, ExemptAnnotationPrefix)
		if !ok {
			continue
		}
		var msg string
		switch {
		case rule == "":
			msg = fmt.Sprintf("annotation %s names no rule; write %s<rule-id>: \"<reason>\"", key, ExemptAnnotationPrefix)
		case strings.TrimSpace(value) == "":
			msg = fmt.Sprintf("the exemption from rule %s gives no reason, so it does not apply; write why the rule does not apply to this object as the annotation's value", rule)
		default:
			continue
		}
		out = append(out, Finding{
			Env:      env,
			Object:   obj.Ref(),
			Source:   obj.Source,
			Rule:     RuleExemptionReason,
			Severity: Deny,
			Field:    "metadata.annotations[" + key + "]",
			Message:  msg,
		})
	}
	slices.SortFunc(out, func(a, b Finding) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// annotationsOf reads obj's annotations without the deep copy that GetAnnotations makes;
// values that are not strings (an invalid manifest) are skipped.
func annotationsOf(obj render.Object) map[string]string {
	metadata, _ := obj.Obj.Object["metadata"].(map[string]any)
	m, _ := metadata["annotations"].(map[string]any)
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}
