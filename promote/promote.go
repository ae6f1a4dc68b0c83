package promote

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/health"
	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// abortError is a gate that failed: the promotion is abandoned for its reason. Other errors
// are failures to retry (the API server, the state ConfigMap).
type abortError struct{ reason string }

func (e *abortError) Error() string { return e.reason }

func abortf(format string, args ...any) error {
	return &abortError{reason: fmt.Sprintf(format, args...)}
}

// promote deploys req's commit to the idle colour, gates it and switches to it (or waits for
// approval). ctx is Run's; opCtx ends also when a newer request supersedes this one.
func (p *Promoter) promote(ctx, opCtx context.Context, e *envWorker, req Request, kind string) error {
	st := p.snapshot(e)
	var live Color
	if st.Live != nil {
		live = st.Live.Color
	}
	idle := Blue
	if live != "" {
		idle = live.Other()
	}
	att := Attempt{Request: req, Kind: kind, Color: idle, Started: time.Now()}
	if err := p.update(ctx, e, func(s *State) {
		s.Current, s.Phase, s.Message = &att, PhaseDeploying, fmt.Sprintf("deploying commit %s to %s", shortCommit(req.Commit), idle)
		if kind == kindPromotion {
			s.LastRequest = &req
		}
	}); err != nil {
		return err
	}
	p.log.Info("promotion started", "env", e.cfg.Name, "kind", kind, "tag", req.Tag, "commit", shortCommit(req.Commit), "color", idle)
	p.event(e.cfg.Name, corev1.EventTypeNormal, "PromotionStarted", fmt.Sprintf("%s of %s (commit %s) to %s started", kind, describeTag(req.Tag), shortCommit(req.Commit), idle))

	err := p.gates(opCtx, e, req.Commit, idle, live)
	if err == nil && kind == kindPromotion && !e.cfg.AutoPromote {
		return p.awaitApproval(ctx, e)
	}
	if err == nil && p.notCancellable(e, opCtx) {
		return p.switchTo(ctx, e)
	}
	return p.endAttempt(ctx, opCtx, e, err)
}

// endAttempt ends an attempt whose gates failed or that was cancelled: a failed gate aborts
// it, a newer request supersedes it, the end of Run leaves it for the next Run.
func (p *Promoter) endAttempt(ctx, opCtx context.Context, e *envWorker, err error) error {
	var sup *supersededError
	var gate *abortError
	switch {
	case ctx.Err() != nil:
		return nil
	case opCtx.Err() != nil && errors.As(context.Cause(opCtx), &sup):
		return p.abort(ctx, e, ResultSuperseded, sup.Error())
	case errors.As(err, &gate):
		return p.abort(ctx, e, ResultAborted, gate.reason)
	case err == nil:
		return fmt.Errorf("promotion of environment %s cancelled: %w", e.cfg.Name, context.Cause(opCtx))
	}
	return err
}

func describeTag(tag string) string {
	if tag == "" {
		return "the previous release"
	}
	return "tag " + tag
}

// gates renders and applies the commit to the idle colour and waits for its health and smoke
// gates; abortError when one fails.
func (p *Promoter) gates(ctx context.Context, e *envWorker, commit string, idle, live Color) error {
	plan, _, err := p.plan(ctx, e, commit, idle, live)
	if err != nil {
		return err
	}
	// From here on the idle colour is replaced: the previous release is no longer warm.
	if err := p.update(ctx, e, func(s *State) { s.RollbackUntil = time.Time{} }); err != nil {
		return err
	}
	if err := p.deploy(ctx, e, commit, plan); err != nil {
		return err
	}
	if err := p.update(ctx, e, func(s *State) {
		s.Phase, s.Message = PhaseVerifying, fmt.Sprintf("waiting up to %s for %s to become healthy", e.cfg.HealthTimeout, idle)
	}); err != nil {
		return err
	}
	if err := p.waitHealthy(ctx, e, refsOf(plan.Objects()), e.cfg.HealthTimeout, "health gate"); err != nil {
		return err
	}
	if len(plan.Smoke) == 0 {
		return nil
	}
	if err := p.update(ctx, e, func(s *State) {
		s.Phase, s.Message = PhaseSmoke, fmt.Sprintf("running %d smoke Job(s) against the preview of %s", len(plan.Smoke), idle)
	}); err != nil {
		return err
	}
	return p.smoke(ctx, e, commit, plan)
}

// plan renders commit, validates it and splits it for promoting idle; abortError when the
// commit cannot be promoted.
func (p *Promoter) plan(ctx context.Context, e *envWorker, commit string, idle, live Color) (*Plan, []render.Object, error) {
	objs, err := p.render(ctx, e, commit)
	if err != nil {
		return nil, nil, err
	}
	findings, err := p.validator.Validate(ctx, e.cfg.Name, objs)
	if err != nil {
		// Not the commit's fault: retried.
		return nil, nil, fmt.Errorf("validate commit %s of environment %s: %w", shortCommit(commit), e.cfg.Name, err)
	}
	if deny := denied(findings); len(deny) > 0 {
		return nil, nil, abortf("validation: %d deny finding(s): %s", len(deny), summarizeFindings(deny))
	}
	plan, err := Split(objs, idle, live, e.cfg.Routers)
	if err != nil {
		return nil, nil, abortf("commit %s cannot be promoted blue/green: %v", shortCommit(commit), err)
	}
	return &plan, objs, nil
}

// render renders the environment at commit; abortError when the commit does not render.
func (p *Promoter) render(ctx context.Context, e *envWorker, commit string) ([]render.Object, error) {
	repo, err := p.repo.Open()
	if err != nil {
		return nil, err
	}
	res, err := p.renderer.RenderCommit(ctx, repo, plumbing.NewHash(commit), e.cfg.Path)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, abortf("render %s at commit %s: %v", e.cfg.Path, shortCommit(commit), err)
	}
	return res.Objects, nil
}

func denied(findings []policy.Finding) []policy.Finding {
	var out []policy.Finding
	for _, f := range findings {
		if f.Severity == policy.Deny && f.Exempted == "" {
			out = append(out, f)
		}
	}
	return out
}

// summarizeFindings names the first findings by rule and object, for a one-line reason.
func summarizeFindings(fs []policy.Finding) string {
	const shown = 3
	var parts []string
	for i, f := range fs {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(fs)-shown))
			break
		}
		parts = append(parts, fmt.Sprintf("%s on %s: %s", f.Rule, f.Object, f.Message))
	}
	return strings.Join(parts, "; ")
}

// deploy applies the shared objects, the idle colour at the live colour's replicas and the
// previews.
func (p *Promoter) deploy(ctx context.Context, e *envWorker, commit string, plan *Plan) error {
	if plan.Live != "" {
		if err := p.matchReplicas(ctx, e, plan); err != nil {
			return err
		}
	}
	return p.apply(ctx, e, commit, plan.Objects(), "deploy "+string(plan.Idle))
}

// apply applies objs, recording them in the inventory first: an agent killed during the
// apply still knows what it may have created.
func (p *Promoter) apply(ctx context.Context, e *envWorker, commit string, objs []*unstructured.Unstructured, what string) error {
	if err := p.remember(ctx, e, commit, refsOf(objs)); err != nil {
		return err
	}
	cs, err := e.cfg.Target.Apply.Apply(ctx, objs, apply.DefaultApplyOptions(e.cfg.Name))
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return abortf("%s: apply failed: %v", what, err)
	}
	p.log.Info("applied", "env", e.cfg.Name, "step", what, "commit", shortCommit(commit), "changes", cs.Summary())
	if p.opts.Applied != nil {
		p.opts.Applied(e.cfg.Name, commit, objs)
	}
	return nil
}

// waitHealthy waits until the objects are healthy; abortError naming gate when they are not
// within timeout.
func (p *Promoter) waitHealthy(ctx context.Context, e *envWorker, refs []render.Ref, timeout time.Duration, gate string) error {
	rep, err := e.cfg.Target.Health.Wait(ctx, refs, timeout)
	if err != nil {
		return err
	}
	switch rep.Aggregate {
	case health.AggregateReady:
		return nil
	case health.AggregateFailed:
		return abortf("%s: %v", gate, rep.Err())
	}
	return abortf("%s: not healthy within %s: %v", gate, timeout, rep.Err())
}

func refsOf(objs []*unstructured.Unstructured) []render.Ref {
	out := make([]render.Ref, len(objs))
	for i, o := range objs {
		out[i] = render.RefOf(o)
	}
	return out
}

// deploymentsOf returns the refs of the Deployments among objs.
func deploymentsOf(objs []*unstructured.Unstructured) []render.Ref {
	var out []render.Ref
	for _, o := range objs {
		if r := render.RefOf(o); r.GroupKind() == gkDeployment {
			out = append(out, r)
		}
	}
	return out
}

// awaitApproval leaves the promotion waiting for Confirm with the preview live.
func (p *Promoter) awaitApproval(ctx context.Context, e *envWorker) error {
	var att Attempt
	if err := p.update(ctx, e, func(s *State) {
		att = *s.Current
		s.Phase = PhaseAwaitingApproval
		s.Message = fmt.Sprintf("%s passed its gates; run `gitops-agent promote %s --confirm` to switch the routers to it", att.Color, e.cfg.Name)
	}); err != nil {
		return err
	}
	p.log.Info("promotion awaiting approval", "env", e.cfg.Name, "tag", att.Tag, "commit", shortCommit(att.Commit), "color", att.Color)
	p.event(e.cfg.Name, corev1.EventTypeNormal, "PromotionAwaitingApproval",
		fmt.Sprintf("commit %s (%s) is healthy in %s behind the preview Services; confirm to switch", shortCommit(att.Commit), describeTag(att.Tag), att.Color))
	return nil
}
