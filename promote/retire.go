package promote

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/gitops-agent/gitops-agent/sync/apply"
	"github.com/gitops-agent/gitops-agent/sync/inventory"
)

// retire ends the rollback window: the previous colour is scaled to zero, and the objects that
// left git with the live release are pruned. Until then nothing is pruned, so that an instant
// rollback finds the previous release whole.
func (p *Promoter) retire(ctx context.Context, e *envWorker) error {
	st := p.snapshot(e)
	live := st.Live
	if st.Previous != nil {
		if err := p.scaleColor(ctx, e, live.Color.Other()); err != nil {
			return err
		}
	}
	pruned, err := p.prune(ctx, e, *live)
	if err != nil {
		return err
	}
	if err := p.update(ctx, e, func(s *State) { s.RollbackUntil = time.Time{} }); err != nil {
		return err
	}
	if st.Previous != nil || pruned.Count(apply.ActionPruned) > 0 {
		p.log.Info("rollback window ended", "env", e.cfg.Name, "scaledToZero", live.Color.Other(), "prune", pruned.Summary())
		p.event(e.cfg.Name, corev1.EventTypeNormal, "PreviousColorRetired",
			fmt.Sprintf("rollback window over: %s scaled to zero; prune: %s", live.Color.Other(), pruned.Summary()))
	}
	return nil
}

// prune deletes the inventory's objects that the live release does not declare, in either
// colour.
func (p *Promoter) prune(ctx context.Context, e *envWorker, live Release) (apply.ChangeSet, error) {
	objs, err := p.render(ctx, e, live.Commit)
	if err != nil {
		return apply.ChangeSet{}, err
	}
	other, err := Split(objs, live.Color.Other(), live.Color, e.cfg.Routers)
	if err != nil {
		return apply.ChangeSet{}, err
	}
	own, err := Split(objs, live.Color, live.Color.Other(), e.cfg.Routers)
	if err != nil {
		return apply.ChangeSet{}, err
	}
	var ids []inventory.ID
	for _, r := range refsOf(append(append(other.Objects(), own.Colored...), other.Routers...)) {
		ids = append(ids, inventory.IDOf(r))
	}
	inv, err := e.cfg.Target.Inventory.Load(ctx, e.cfg.Name)
	if err != nil {
		return apply.ChangeSet{}, err
	}
	keep := inventory.New(e.cfg.Name, live.Commit, ids)
	keep.ResourceVersion = inv.ResourceVersion
	stale := inventory.Diff(inv, keep)
	var cs apply.ChangeSet
	if len(stale) > 0 {
		var pruneErr error
		cs, pruneErr = e.cfg.Target.Apply.Prune(ctx, inventory.Refs(stale), apply.DefaultPruneOptions(e.cfg.Name))
		keep.KeepFailed(cs)
		if pruneErr != nil {
			if err := e.cfg.Target.Inventory.Save(ctx, keep); err != nil {
				return cs, fmt.Errorf("%w; %w", pruneErr, err)
			}
			return cs, pruneErr
		}
	}
	return cs, e.cfg.Target.Inventory.Save(ctx, keep)
}
