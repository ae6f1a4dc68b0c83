package policy

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// RegoProblem is one parse or compile error of a policy file.
type RegoProblem struct {
	File    string
	Row     int
	Col     int
	Code    string // OPA's error code, e.g. "rego_parse_error"
	Message string
}

func (p RegoProblem) String() string {
	loc := p.File
	if p.Row > 0 {
		loc = fmt.Sprintf("%s:%d:%d", p.File, p.Row, p.Col)
	}
	if p.Code == "" {
		return fmt.Sprintf("%s: %s", loc, p.Message)
	}
	return fmt.Sprintf("%s: %s: %s", loc, p.Code, p.Message)
}

// RegoCompileError lists every problem that stopped a policy set from compiling.
type RegoCompileError struct {
	Problems []RegoProblem
}

func (e *RegoCompileError) Error() string {
	if len(e.Problems) == 1 {
		return "compile policies: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "compile policies: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// newRegoCompiler refuses some built-ins: the policy folder comes from the same Git repository
// as the manifests, and evaluation must neither reach the network nor read the agent's own
// environment (opa.runtime returns its environment variables, credentials included).
func newRegoCompiler() *ast.Compiler {
	return ast.NewCompiler().
		WithDefaultRegoVersion(ast.RegoV1).
		WithUnsafeBuiltins(map[string]struct{}{
			ast.HTTPSend.Name:        {},
			ast.OPARuntime.Name:      {},
			ast.NetLookupIPAddr.Name: {},
		})
}

func compileRego(modules map[string]*ast.Module) (*ast.Compiler, error) {
	compiler := newRegoCompiler()
	if compiler.Compile(modules); compiler.Failed() {
		err := compileErrorOf(compiler.Errors)
		slices.SortFunc(err.Problems, func(a, b RegoProblem) int {
			return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Row, b.Row), cmp.Compare(a.Col, b.Col))
		})
		return nil, err
	}
	return compiler, nil
}

// conftest's rule names: deny, violation and warn, optionally followed by _suffix parts.
var (
	denyRuleName = regexp.MustCompile(`^(deny|violation)(_[a-zA-Z0-9]+)*$`)
	warnRuleName = regexp.MustCompile(`^warn(_[a-zA-Z0-9]+)*$`)
)

// queriedRule is one deny/violation/warn rule of one package.
type queriedRule struct {
	ref      ast.Ref // data.<package>.<rule>
	pkg      string  // package path without "data.", e.g. "main"
	name     string  // rule name, e.g. "deny_latest"
	severity Severity
}

// exceptionRule is a package's conftest exception rule: a set of arrays of rule names (without
// their deny_/warn_/violation_ prefix) that the package exempts for the current input.
type exceptionRule struct {
	ref ast.Ref
	pkg string
}

func newRegoSet(compiler *ast.Compiler, modules map[string]*ast.Module, opts RegoOptions) (*RegoSet, error) {
	wanted := map[string]bool{}
	for _, ns := range opts.Namespaces {
		wanted[ns] = true
	}
	rules := map[string]queriedRule{}
	exceptions := map[string]exceptionRule{}
	for _, module := range compiler.Modules {
		pkgRef := module.Package.Path
		pkg := strings.TrimPrefix(pkgRef.String(), "data.")
		if !opts.AllNamespaces && !wanted[pkg] {
			continue
		}
		for _, rule := range module.Rules {
			head := rule.Head.Ref()
			if len(head) != 1 {
				continue
			}
			name := head.String()
			ref := pkgRef.Append(ast.StringTerm(name))
			switch {
			case denyRuleName.MatchString(name):
				rules[ref.String()] = queriedRule{ref: ref, pkg: pkg, name: name, severity: Deny}
			case warnRuleName.MatchString(name):
				rules[ref.String()] = queriedRule{ref: ref, pkg: pkg, name: name, severity: Warn}
			case name == "exception":
				exceptions[ref.String()] = exceptionRule{ref: ref, pkg: pkg}
			}
		}
	}
	if len(rules) == 0 {
		where := "package " + strings.Join(opts.Namespaces, ", ")
		if opts.AllNamespaces {
			where = "any package"
		}
		return nil, fmt.Errorf("compile policies: no deny, violation or warn rules in %s", where)
	}

	set := &RegoSet{
		compiler:   compiler,
		files:      slices.Sorted(maps.Keys(modules)),
		rules:      slices.SortedFunc(maps.Values(rules), func(a, b queriedRule) int { return a.ref.Compare(b.ref) }),
		exceptions: slices.SortedFunc(maps.Values(exceptions), func(a, b exceptionRule) int { return a.ref.Compare(b.ref) }),
		opts:       opts,
		needs:      dataNeedsOf(compiler),
	}
	set.queryCompiler = compiler.QueryCompiler()
	set.queries = make([]ast.Body, set.allRules()+1)
	for mask := range set.queries {
		if mask == 0 {
			continue // no rule applies: nothing to ask
		}
		query, err := ast.ParseBody(set.buildQuery(ruleMask(mask)))
		if err == nil {
			query, err = set.queryCompiler.Compile(query)
		}
		if err != nil {
			return nil, fmt.Errorf("compile policies: query the rules: %w", err)
		}
		set.queries[mask] = query
	}
	return set, nil
}

// buildQuery asks for the rules in mask, and for every exception rule, in one evaluation per
// object. Each rule is wrapped in a comprehension so that a rule that is undefined for an input
// (a complete rule, or an exception rule with no match) does not make the whole query undefined.
func (s *RegoSet) buildQuery(mask ruleMask) string {
	exprs := make([]string, 0, len(s.rules)+len(s.exceptions))
	for i, r := range s.rules {
		if s.has(mask, i) {
			exprs = append(exprs, fmt.Sprintf("%s = [x | x := %s]", ruleVar(i), r.ref))
		}
	}
	for i, e := range s.exceptions {
		exprs = append(exprs, fmt.Sprintf("%s = [x | x := %s]", exceptionVar(i), e.ref))
	}
	return strings.Join(exprs, "; ")
}

func ruleVar(i int) string      { return fmt.Sprintf("r%d", i) }
func exceptionVar(i int) string { return fmt.Sprintf("e%d", i) }

func compileErrorOf(errs ast.Errors) *RegoCompileError {
	out := &RegoCompileError{}
	for _, e := range errs {
		out.Problems = append(out.Problems, problemOf(e))
	}
	return out
}
