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
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

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
	// Only the objects that some rule body applies to are evaluated, and only those and the
	// ones that data.gitops holds are converted to Rego values.
	applies := make([]ruleMask, len(objs))
	inputs := make([]ast.Value, len(objs))
	err := forEach(ctx, len(objs), s.opts.parallelism(), func(i int) error {
		applies[i] = s.mayApply(objs[i].Obj.Object)
		if applies[i] == 0 && !s.needs.holds(objs[i]) {
			return nil
		}
		v, err := regoValueOf(objs[i].Obj.Object)
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
	// time. The queries run on OPA's evaluator directly: the rego package's per-query setup
	// (metrics, a goroutine watching ctx, results converted to Go values) would add some 5% to
	// every object; one cancellation serves them all.
	store := inmem.NewFromASTObject(environmentData(env, objs, inputs, s.needs))
	cancel := topdown.NewCancel()
	defer context.AfterFunc(ctx, cancel.Cancel)()

	perObject := make([][]Finding, len(objs))
	err = forEach(ctx, len(objs), s.opts.parallelism(), func(i int) error {
		found, err := s.evaluateOne(ctx, store, cancel, env, objs[i], inputs[i], applies[i])
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

func (s *RegoSet) evaluateOne(ctx context.Context, store storage.Store, cancel topdown.Cancel, env string, obj render.Object, input ast.Value, applies ruleMask) ([]Finding, error) {
	var found []Finding
	if applies != 0 {
		result, err := s.query1(ctx, store, cancel, s.queries[applies], input)
		if err != nil {
			return nil, fmt.Errorf("%s: evaluate policies: %w", describe(obj), err)
		}
		if result != nil {
			found, err = s.findings(result, env, obj)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", describe(obj), err)
			}
		}
	}
	annotations := annotationsOf(obj)
	ApplyExemptions(annotations, found)
	found = append(found, exemptionFindings(env, obj, annotations)...)
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

// query1 evaluates query with input and returns its first result, nil when it has none.
func (s *RegoSet) query1(ctx context.Context, store storage.Store, cancel topdown.Cancel, query ast.Body, input ast.Value) (topdown.QueryResult, error) {
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, err
	}
	defer store.Abort(ctx, txn)
	var first topdown.QueryResult
	err = topdown.NewQuery(query).
		WithQueryCompiler(s.queryCompiler).
		WithCompiler(s.compiler).
		WithStore(store).
		WithTransaction(txn).
		WithInput(ast.NewTerm(input)).
		WithCancel(cancel).
		WithIndexing(true).
		WithEarlyExit(true).
		WithMetrics(metrics.NoOp()).
		Iter(ctx, func(result topdown.QueryResult) error {
			if first == nil {
				first = result
			}
			return nil
		})
	return first, err
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
