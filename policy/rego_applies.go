package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// ruleMask is a set of queried rules, bit i for s.rules[i]: the rules whose bodies may apply to
// an object. Sets with many rules (conftest's deny_*, warn_* variants) are not split: all their
// rules are asked for whenever one applies.
type ruleMask uint

// maskedRules is the number of rules, at most, that queries are split by.
const maskedRules = 6

// allRules is the mask of every queried rule, or of all rules at once for larger sets.
func (s *RegoSet) allRules() ruleMask {
	if len(s.rules) > maskedRules {
		return 1
	}
	return 1<<len(s.rules) - 1
}

// ruleBit is the mask of rule i alone.
func (s *RegoSet) ruleBit(i int) ruleMask {
	if len(s.rules) > maskedRules {
		return 1
	}
	return 1 << i
}

// has says whether the mask holds rule i.
func (s *RegoSet) has(m ruleMask, i int) bool {
	if len(s.rules) > maskedRules {
		return m != 0
	}
	return m&(1<<i) != 0
}

// mayApply asks OPA's rule index, as evaluation would, which queried rules have a body that
// can match the object. Most objects of an environment (Secrets, ServiceAccounts, ...) match
// none, and skipping their evaluation saves most of their cost; most others match only deny or
// only warn rules. Anything the index cannot decide from the object alone counts as a match.
func (s *RegoSet) mayApply(obj map[string]any) ruleMask {
	resolver := inputResolver{obj}
	var mask ruleMask
	for i, r := range s.rules {
		if s.has(mask, i) {
			continue // a set too large to split, already asked for
		}
		index := s.compiler.RuleIndex(r.ref)
		if index == nil {
			mask |= s.ruleBit(i)
			continue
		}
		result, err := index.Lookup(resolver)
		if err != nil || len(result.Rules) > 0 || result.Default != nil {
			mask |= s.ruleBit(i)
		}
	}
	return mask
}

// inputResolver resolves the input references of rule index conditions from an object that is
// not converted to Rego values: only the values looked up are. References to data are left
// unknown.
type inputResolver struct{ obj map[string]any }

func (r inputResolver) Resolve(ref ast.Ref) (ast.Value, error) {
	if !ref[0].Equal(ast.InputRootDocument) {
		return nil, ast.UnknownValueErr{}
	}
	var cur any = r.obj
	for i, term := range ref[1:] {
		switch node := cur.(type) {
		case map[string]any:
			key, ok := term.Value.(ast.String)
			if !ok {
				return nil, nil // an absent input path is undefined, not an error
			}
			if cur, ok = node[string(key)]; !ok {
				return nil, nil
			}
		case []any:
			index, ok := term.Value.(ast.Number)
			if !ok {
				return nil, nil
			}
			n, ok := index.Int()
			if !ok || n < 0 || n >= len(node) {
				return nil, nil
			}
			cur = node[n]
		default:
			// Any other Go value (a scalar, or a typed map or slice) is converted, and Rego's
			// own lookup takes the rest of the path.
			v, err := ast.InterfaceToValue(cur)
			if err != nil {
				return nil, nil
			}
			if v, err = v.Find(ref[1+i:]); err != nil {
				return nil, nil
			}
			return v, nil
		}
	}
	v, err := ast.InterfaceToValue(cur)
	if err != nil {
		return nil, nil
	}
	return v, nil
}
