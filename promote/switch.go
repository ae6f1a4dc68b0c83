package promote

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/gitops-agent/gitops-agent/render"
)

// confirmSwitch switches to the colour that awaited approval.
func (p *Promoter) confirmSwitch(ctx context.Context, e *envWorker) error {
	return p.switchTo(ctx, e)
}

// switchTo re-points the routers at the attempt's colour in one apply, once its Deployments
// are rechecked healthy, and records the switch.
func (p *Promoter) switchTo(ctx context.Context, e *envWorker) error {
	st := p.snapshot(e)
	att := st.Current
	var live Color
	if st.Live != nil {
		live = st.Live.Color
	}
	plan, _, err := p.plan(ctx, e, att.Commit, att.Color, live)
	if err != nil {
		return p.endAttempt(ctx, ctx, e, err)
	}
	if err := p.update(ctx, e, func(s *State) {
		s.Phase, s.Message = PhaseSwitching, fmt.Sprintf("switching the routers to %s", att.Color)
	}); err != nil {
		return err
	}
	// Routers never select a colour that is not healthy: its health is read again right
	// before, as approval may have come long after the gates.
	if err := p.waitHealthy(ctx, e, deploymentsOf(plan.Colored), e.cfg.HealthTimeout, "health recheck before the switch"); err != nil {
		return p.endAttempt(ctx, ctx, e, err)
	}
	if err := p.apply(ctx, e, att.Commit, plan.RoutersSelecting(att.Color), "switch routers to "+string(att.Color)); err != nil {
		var gate *abortError
		if !errors.As(err, &gate) {
			return err
		}
		if st.Live != nil {
			if rerr := p.revertRouters(ctx, e, *st.Live); rerr != nil {
				return fmt.Errorf("%w; routers could not be switched back to %s: %w", err, st.Live.Color, rerr)
			}
		}
		return p.abort(ctx, e, ResultAborted, gate.reason)
	}
	return p.finishSwitch(ctx, e)
}

// revertRouters points the routers back at the live release's colour, as the live release
// declares them.
func (p *Promoter) revertRouters(ctx context.Context, e *envWorker, live Release) error {
	objs, err := p.render(ctx, e, live.Commit)
	if err != nil {
		return err
	}
	plan, err := Split(objs, live.Color.Other(), live.Color, e.cfg.Routers)
	if err != nil {
		return err
	}
	return p.apply(ctx, e, live.Commit, plan.Routers, "switch routers back to "+string(live.Color))
}

// finishSwitch records the attempt's colour as live.
func (p *Promoter) finishSwitch(ctx context.Context, e *envWorker) error {
	now := time.Now()
	var att Attempt
	var result Result
	if err := p.update(ctx, e, func(s *State) {
		att = *s.Current
		result = ResultPromoted
		if att.Kind == kindRollback {
			result = ResultRolledBack
		}
		if s.Live != nil {
			s.Previous = s.Live
			s.RollbackUntil = now.Add(e.cfg.RollbackWindow)
		} else {
			// Nothing to keep warm: what left git is pruned at once.
			s.RollbackUntil = now
		}
		s.Live = &Release{Color: att.Color, Commit: att.Commit, Tag: att.Tag}
		s.Phase, s.Current, s.Message = PhaseLive, nil, ""
		s.record(HistoryEntry{Commit: att.Commit, Tag: att.Tag, Color: att.Color, Start: att.Started, End: now, Result: result}, p.opts.HistoryLimit)
	}); err != nil {
		return err
	}
	took := now.Sub(att.Started)
	p.metrics.observeEnd(e.cfg.Name, result, took)
	p.log.Info("routers switched", "env", e.cfg.Name, "result", result, "tag", att.Tag, "commit", shortCommit(att.Commit), "color", att.Color, "took", took.Round(time.Millisecond))
	reason := "Promoted"
	if result == ResultRolledBack {
		reason = "RolledBack"
	}
	p.event(e.cfg.Name, corev1.EventTypeNormal, reason, fmt.Sprintf("%s: commit %s (%s) is live in %s after %s", result, shortCommit(att.Commit), describeTag(att.Tag), att.Color, took.Round(time.Second)))
	return nil
}

// resumeSwitch finishes a switch that a restart or a failure interrupted: the routers end on
// the attempt's colour if it is healthy, otherwise back on the live colour.
func (p *Promoter) resumeSwitch(ctx context.Context, e *envWorker) error {
	st := p.snapshot(e)
	att := st.Current
	var live Color
	if st.Live != nil {
		live = st.Live.Color
	}
	objs, err := p.render(ctx, e, att.Commit)
	if err != nil {
		return err
	}
	plan, err := Split(objs, att.Color, live, e.cfg.Routers)
	if err != nil {
		return err
	}
	err = p.waitHealthy(ctx, e, deploymentsOf(plan.Colored), e.cfg.HealthTimeout, "health recheck of "+string(att.Color))
	var gate *abortError
	switch {
	case err == nil:
		if err := p.apply(ctx, e, att.Commit, plan.RoutersSelecting(att.Color), "finish switching routers to "+string(att.Color)); err != nil {
			return err
		}
		return p.finishSwitch(ctx, e)
	case !errors.As(err, &gate):
		return err
	}
	reason := "switch interrupted (agent restart or a failed step); " + gate.reason
	if st.Live != nil {
		liveRefs := make([]render.Ref, 0, len(plan.Deployments))
		for _, d := range plan.Deployments {
			d.Name = ColoredName(d.Name, live)
			liveRefs = append(liveRefs, d)
		}
		if herr := p.waitHealthy(ctx, e, liveRefs, e.cfg.HealthTimeout, "live colour "+string(live)); herr != nil {
			// Neither colour is healthy: the live one stays, as before the promotion.
			reason += "; " + herr.Error()
		}
		if err := p.revertRouters(ctx, e, *st.Live); err != nil {
			return err
		}
	}
	return p.abort(ctx, e, ResultAborted, reason)
}
