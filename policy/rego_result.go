package policy

import (
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/gitops-agent/gitops-agent/render"
)

// findings decodes one object's query result. A rule's value is the set of its results; a
// result is a message string or, as in conftest, an object with a msg string. The built-in
// rules add "rule" (their id) and "field" (the offending field's path) to that object; for any
// other result the rule id is the rule's name ("deny", "warn_latest"), prefixed with its package
// outside package main ("kubernetes.deny").
func (s *RegoSet) findings(result topdown.QueryResult, env string, obj render.Object) ([]Finding, error) {
	excepted := s.exceptedRules(result)
	var out []Finding
	for i, r := range s.rules {
		for _, value := range ruleValues(result, ruleVar(i)) {
			f := Finding{Env: env, Object: obj.Ref(), Source: obj.Source, Rule: r.id(), Severity: r.severity}
			switch v := value.Value.(type) {
			case ast.String:
				f.Message = string(v)
			case ast.Object:
				msg, ok := stringAt(v, "msg")
				if !ok {
					return nil, fmt.Errorf("rule %s returned an object without a msg string; return a message string or an object with msg", r.ref)
				}
				f.Message = msg
				if id, ok := stringAt(v, "rule"); ok && id != "" {
					f.Rule = id
				}
				if field, ok := stringAt(v, "field"); ok {
					f.Field = field
				}
			default:
				return nil, fmt.Errorf("rule %s returned a %s; return a message string or an object with msg", r.ref, ast.ValueName(v))
			}
			if excepted[exceptionKey{r.pkg, r.exceptionName()}] {
				f.Exempted = "conftest exception in package " + r.pkg
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// ruleValues are the results of the rule bound to name in the query ([x | x := rule]): the
// elements of a partial set rule or of a complete rule's array or set, or a complete rule's
// single value; none when the rule is undefined.
func ruleValues(result topdown.QueryResult, name string) []*ast.Term {
	t := result[ast.Var(name)]
	if t == nil {
		return nil
	}
	values, ok := t.Value.(*ast.Array)
	if !ok || values.Len() == 0 {
		return nil
	}
	return elements(values.Elem(0))
}

// elements are the elements of a set or an array, or t itself.
func elements(t *ast.Term) []*ast.Term {
	switch v := t.Value.(type) {
	case ast.Set:
		return v.Slice()
	case *ast.Array:
		out := make([]*ast.Term, v.Len())
		for i := range out {
			out[i] = v.Elem(i)
		}
		return out
	default:
		return []*ast.Term{t}
	}
}

func stringAt(o ast.Object, key string) (string, bool) {
	t := o.Get(ast.StringTerm(key))
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(ast.String)
	return string(s), ok
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
func (s *RegoSet) exceptedRules(result topdown.QueryResult) map[exceptionKey]bool {
	if len(s.exceptions) == 0 {
		return nil
	}
	out := map[exceptionKey]bool{}
	for i, e := range s.exceptions {
		for _, names := range ruleValues(result, exceptionVar(i)) {
			if _, ok := names.Value.(ast.String); ok {
				continue // a bare name, not a list of names
			}
			for _, name := range elements(names) {
				if n, ok := name.Value.(ast.String); ok {
					out[exceptionKey{e.pkg, string(n)}] = true
				}
			}
		}
	}
	return out
}
