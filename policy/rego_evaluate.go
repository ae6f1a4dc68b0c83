package policy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/gitops-agent/gitops-agent/render"
)

// Evaluate checks objs, the rendered objects of environment env, against the policy set and
// returns their findings, object by object in the order given. Each object is the rules'
// input; the whole environment is their data.gitops.objects, for cross-object rules (see
// policies/README.md). Exemption annotations are applied to the findings, and an exemption
// without a reason is a finding of its own. Objects are evaluated in parallel.
func (s *RegoSet) Evaluate(ctx context.Context, env string, objs []render.Object) ([]Finding, error) {
	for i, o := range objs {
		if o.Obj == nil {
			return nil, fmt.Errorf("evaluate policies: object %d (%s) has no content", i, o.Source)
		}
	}
	if len(objs) == 0 {
		return nil, nil
	}
	inputs := make([]ast.Value, len(objs))
	err := forEach(ctx, len(objs), s.opts.parallelism(), func(i int) error {
		v, err := ast.InterfaceToValue(objs[i].Obj.Object)
		if err != nil {
			return fmt.Errorf("%s: convert to policy input: %w", describe(objs[i]), err)
		}
		inputs[i] = v
		return nil
	})
	if err != nil {
		return nil, err
	}

	// The environment is a store of its own, so that environments can be evaluated at the same
	// time; preparing the query against the already compiled policies is cheap.
	store := inmem.NewFromASTObject(environmentData(env, objs, inputs))
	pq, err := rego.New(
		rego.Query(s.query),
		rego.Compiler(s.compiler),
		rego.Store(store),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("evaluate policies: prepare query: %w", err)
	}

	perObject := make([][]Finding, len(objs))
	err = forEach(ctx, len(objs), s.opts.parallelism(), func(i int) error {
		found, err := s.evaluateOne(ctx, &pq, env, objs[i], inputs[i])
		perObject[i] = found
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, f := range perObject {
		out = append(out, f...)
	}
	return out, nil
}

func (s *RegoSet) evaluateOne(ctx context.Context, pq *rego.PreparedEvalQuery, env string, obj render.Object, input ast.Value) ([]Finding, error) {
	var found []Finding
	if s.mayApply(input) {
		rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
		if err != nil {
			return nil, fmt.Errorf("%s: evaluate policies: %w", describe(obj), err)
		}
		if len(rs) > 0 {
			found, err = s.findings(rs[0].Bindings, env, obj)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", describe(obj), err)
			}
		}
	}
	ApplyExemptions(annotationsOf(obj), found)
	found = append(found, ExemptionFindings(env, obj)...)
	slices.SortFunc(found, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Severity, b.Severity), // deny before warn
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Field, b.Field),
			cmp.Compare(a.Message, b.Message),
		)
	})
	return found, nil
}

// mayApply asks OPA's rule index, as evaluation would, whether any queried rule has a body
// that can match input. Most objects of an environment (Secrets, ServiceAccounts, ...) match
// none, and skipping their evaluation saves most of their cost. Anything the index cannot
// decide from the input alone counts as a match.
func (s *RegoSet) mayApply(input ast.Value) bool {
	resolver := inputResolver{input}
	for _, r := range s.rules {
		index := s.compiler.RuleIndex(r.ref)
		if index == nil {
			return true
		}
		result, err := index.Lookup(resolver)
		if err != nil || len(result.Rules) > 0 || result.Default != nil {
			return true
		}
	}
	return false
}

// inputResolver resolves the input references of rule index conditions from an object;
// references to data are left unknown.
type inputResolver struct{ input ast.Value }

func (r inputResolver) Resolve(ref ast.Ref) (ast.Value, error) {
	if !ref[0].Equal(ast.InputRootDocument) {
		return nil, ast.UnknownValueErr{}
	}
	v, err := r.input.Find(ref[1:])
	if err != nil {
		return nil, nil // an absent input path is undefined, not an error
	}
	return v, nil
}

// forEach calls fn for 0..n-1 on up to workers goroutines and returns the errors joined (or
// ctx's error); it stops handing out work once ctx is done or after the first error.
func forEach(ctx context.Context, n, workers int, fn func(i int) error) error {
	workers = min(workers, n)
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		errs   []error
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					failed.Store(true)
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) == 0 && ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Join(errs...)
}

// describe names an object in errors: its reference and, when known, its file.
func describe(o render.Object) string {
	if o.Source == "" {
		return o.Ref().String()
	}
	return fmt.Sprintf("%s (%s)", o.Ref(), o.Source)
}
