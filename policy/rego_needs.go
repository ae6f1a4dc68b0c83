package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// dataNeeds says which parts of the environment document (data.gitops, see environmentData)
// the rules of a policy set can read. Building data.gitops.objects means converting every
// object of the environment to Rego values, most of which no rule looks at otherwise: an
// object that no rule body applies to is neither evaluated nor converted unless some rule may
// read it through data.
type dataNeeds struct {
	objects      bool // data.gitops.objects
	podTemplates bool // data.gitops.pod_templates
}

var (
	gitopsObjectsPath      = ast.MustParseRef("data.gitops.objects")
	gitopsPodTemplatesPath = ast.MustParseRef("data.gitops.pod_templates")
)

// dataNeedsOf looks at every reference to data in the compiled modules, policies and helpers of
// every package alike. A reference may read a document when it could name it or something
// that contains it: data.gitops.objects.shop, data.gitops, data.gitops[x] and plain data all may
// read data.gitops.objects; data.gitops.pod_templates and data.gitops.lib.containers do not.
func dataNeedsOf(compiler *ast.Compiler) dataNeeds {
	var needs dataNeeds
	for _, module := range compiler.Modules {
		ast.WalkRefs(module, func(ref ast.Ref) bool {
			needs.objects = needs.objects || mayRead(ref, gitopsObjectsPath)
			needs.podTemplates = needs.podTemplates || mayRead(ref, gitopsPodTemplatesPath)
			return false
		})
	}
	return needs
}

// mayRead says whether ref can refer to path or to a document that contains it: on their
// common length, each term of ref is either a variable (or any other non-constant term) or
// the same constant as path's.
func mayRead(ref, path ast.Ref) bool {
	if !ref.HasPrefix(path[:1]) {
		return false
	}
	for i := 1; i < min(len(ref), len(path)); i++ {
		switch ref[i].Value.(type) {
		case ast.String, ast.Number, ast.Boolean, ast.Null:
			if !ref[i].Equal(path[i]) {
				return false
			}
		}
	}
	return true
}
