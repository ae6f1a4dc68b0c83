package policy

import (
	"fmt"
	"strings"

	"github.com/gitops-agent/gitops-agent/render"
)

// findings decodes one object's query bindings. A rule's value is the set of its results; a
// result is a message string or, as in conftest, an object with a msg string. The built-in
// rules add "rule" (their id) and "field" (the offending field's path) to that object; for any
// other result the rule id is the rule's name ("deny", "warn_latest"), prefixed with its package
// outside package main ("kubernetes.deny").
func (s *RegoSet) findings(bindings map[string]any, env string, obj render.Object) ([]Finding, error) {
	excepted := s.exceptedRules(bindings)
	var out []Finding
	for i, r := range s.rules {
		values, _ := bindings[ruleVar(i)].([]any)
		if len(values) == 0 {
			continue // undefined complete rule
		}
		results, ok := values[0].([]any)
		if !ok {
			results = values // a complete rule with one result
		}
		for _, result := range results {
			f := Finding{Env: env, Object: obj.Ref(), Source: obj.Source, Rule: r.id(), Severity: r.severity}
			switch v := result.(type) {
			case string:
				f.Message = v
			case map[string]any:
				msg, ok := v["msg"].(string)
				if !ok {
					return nil, fmt.Errorf("rule %s returned an object without a msg string; return a message string or an object with msg", r.ref)
				}
				f.Message = msg
				if id, ok := v["rule"].(string); ok && id != "" {
					f.Rule = id
				}
				if field, ok := v["field"].(string); ok {
					f.Field = field
				}
			default:
				return nil, fmt.Errorf("rule %s returned a %T; return a message string or an object with msg", r.ref, result)
			}
			if excepted[exceptionKey{r.pkg, r.exceptionName()}] {
				f.Exempted = "conftest exception in package " + r.pkg
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// id is the rule id of results that do not name one.
func (r queriedRule) id() string {
	if r.pkg == "main" {
		return r.name
	}
	return r.pkg + "." + r.name
}

// exceptionName is the name by which a conftest exception rule exempts r: its name without
// the deny_/violation_/warn_ prefix.
func (r queriedRule) exceptionName() string {
	for _, prefix := range []string{"violation_", "deny_", "warn_"} {
		if rest, ok := strings.CutPrefix(r.name, prefix); ok && rest != "" {
			return rest
		}
	}
	return r.name
}

type exceptionKey struct{ pkg, rule string }

// exceptedRules collects the rule names that the packages' conftest exception rules exempt for
// this input: exception contains ["run_as_root"] if {...}.
func (s *RegoSet) exceptedRules(bindings map[string]any) map[exceptionKey]bool {
	if len(s.exceptions) == 0 {
		return nil
	}
	out := map[exceptionKey]bool{}
	for i, e := range s.exceptions {
		values, _ := bindings[exceptionVar(i)].([]any)
		if len(values) == 0 {
			continue
		}
		sets, _ := values[0].([]any)
		for _, set := range sets {
			names, _ := set.([]any)
			for _, name := range names {
				if n, ok := name.(string); ok {
					out[exceptionKey{e.pkg, n}] = true
				}
			}
		}
	}
	return out
}
