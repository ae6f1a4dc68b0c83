package promote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// rollbackTo returns to the previous release: at once, by switching the routers, while its
// colour is warm and healthy; otherwise by redeploying its commit through the gates.
func (p *Promoter) rollbackTo(ctx, opCtx context.Context, e *envWorker) error {
	st := p.snapshot(e)
	prev := st.Previous
	if prev == nil {
		return nil
	}
	req := Request{Tag: prev.Tag, Commit: prev.Commit}
	if st.warm(time.Now()) && st.Live != nil {
		done, err := p.switchBack(ctx, e, st)
		if done || err != nil {
			return err
		}
	}
	return p.promote(ctx, opCtx, e, req, kindRollback)
}

// switchBack switches the routers to the warm previous colour; false when it is not healthy
// and must be redeployed instead. Validation is skipped: the release ran until now, and a
// rollback must not wait for policies written since.
func (p *Promoter) switchBack(ctx context.Context, e *envWorker, st State) (bool, error) {
	prev := st.Previous
	objs, err := p.render(ctx, e, prev.Commit)
	if err != nil {
		return false, err
	}
	plan, err := Split(objs, prev.Color, st.Live.Color, e.cfg.Routers)
	if err != nil {
		return false, fmt.Errorf("split the previous release %s: %w", shortCommit(prev.Commit), err)
	}
	if err := p.waitHealthy(ctx, e, deploymentsOf(plan.Colored), e.cfg.HealthTimeout, "previous colour "+string(prev.Color)); err != nil {
		var gate *abortError
		if errors.As(err, &gate) {
			p.log.Warn("previous colour not healthy; redeploying it through the gates", "env", e.cfg.Name, "color", prev.Color, "reason", gate.reason)
			return false, nil
		}
		return false, err
	}
	att := Attempt{Request: Request{Tag: prev.Tag, Commit: prev.Commit}, Kind: kindRollback, Color: prev.Color, Started: time.Now()}
	if err := p.update(ctx, e, func(s *State) {
		s.Current, s.Phase, s.Message = &att, PhaseSwitching, fmt.Sprintf("rolling back: switching the routers to %s", prev.Color)
	}); err != nil {
		return false, err
	}
	// The previous release is its shared objects too (its configuration, its other services):
	// they go back with the routers, in one apply.
	if err := p.apply(ctx, e, prev.Commit, slices.Concat(plan.Shared, plan.RoutersSelecting(prev.Color)), "switch routers back to "+string(prev.Color)); err != nil {
		// Both colours are healthy: the interrupted switch is finished by resumeSwitch.
		return false, err
	}
	return true, p.finishSwitch(ctx, e)
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
