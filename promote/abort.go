package promote

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// abort abandons the attempt in progress: the routers are left alone, the idle colour is
// scaled to zero and its previews removed (unless it is the previous release, still warm: a
// commit that failed to render touched nothing), and the outcome is recorded. The reason is
// recorded first, so that an abort interrupted by a restart is finished with it. then, if
// given, changes the state along with the record.
func (p *Promoter) abort(ctx context.Context, e *envWorker, result Result, reason string, then ...func(*State)) error {
	st := p.snapshot(e)
	if st.Current == nil {
		return nil
	}
	if err := p.update(ctx, e, func(s *State) {
		s.Current.AbortReason, s.Current.AbortResult = reason, result
	}); err != nil {
		return err
	}
	att := *st.Current
	if !st.warm(time.Now()) {
		if err := p.scaleColor(ctx, e, att.Color); err != nil {
			return fmt.Errorf("abort the %s of commit %s: %w", att.Kind, shortCommit(att.Commit), err)
		}
		if err := p.removePreviews(ctx, e); err != nil {
			return fmt.Errorf("abort the %s of commit %s: %w", att.Kind, shortCommit(att.Commit), err)
		}
	}
	now := time.Now()
	if err := p.update(ctx, e, func(s *State) {
		s.Phase, s.Current, s.Message = PhaseAborted, nil, fmt.Sprintf("%s of commit %s %s: %s", att.Kind, shortCommit(att.Commit), result, reason)
		s.record(HistoryEntry{Commit: att.Commit, Tag: att.Tag, Color: att.Color, Start: att.Started, End: now, Result: result, Reason: reason}, p.opts.HistoryLimit)
		for _, f := range then {
			f(s)
		}
	}); err != nil {
		return err
	}
	p.metrics.observeEnd(e.cfg.Name, result, now.Sub(att.Started))
	p.log.Warn("promotion ended without a switch", "env", e.cfg.Name, "result", result, "tag", att.Tag, "commit", shortCommit(att.Commit), "color", att.Color, "reason", reason)
	eventReason := "PromotionAborted"
	if result == ResultSuperseded {
		eventReason = "PromotionSuperseded"
	}
	p.event(e.cfg.Name, corev1.EventTypeWarning, eventReason, fmt.Sprintf("%s of commit %s (%s) to %s %s: %s; the routers were not changed",
		att.Kind, shortCommit(att.Commit), describeTag(att.Tag), att.Color, result, reason))
	return nil
}

// recoverAttempt ends an attempt found half done before its switch (after a restart or a
// failed step): an abort in progress is finished; anything else is aborted cleanly and its
// request taken up again.
func (p *Promoter) recoverAttempt(ctx context.Context, e *envWorker) error {
	st := p.snapshot(e)
	att := st.Current
	if att.AbortReason != "" {
		return p.abort(ctx, e, att.AbortResult, att.AbortReason)
	}
	reason := fmt.Sprintf("interrupted in phase %s (agent restart or a failed step); started again", st.Phase)
	if att.Kind == kindRollback {
		err := p.abort(ctx, e, ResultAborted, reason)
		if err == nil {
			p.mu.Lock()
			e.rollback = true
			p.mu.Unlock()
		}
		return err
	}
	return p.abort(ctx, e, ResultAborted, reason, func(s *State) {
		if s.LastRequest != nil && *s.LastRequest == att.Request {
			s.LastRequest = nil
		}
	})
}
