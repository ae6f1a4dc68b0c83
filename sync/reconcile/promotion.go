package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/promote"
	"github.com/gitops-agent/gitops-agent/render"
)

// Promotions reports the promotion state of environments promoted blue/green;
// *promote.Promoter is one.
type Promotions interface {
	State(env string) (promote.State, bool)
}

// RouterRefs parses routers written "Service/<namespace>/<name>" (config.Promotion.Routers).
func RouterRefs(routers []string) ([]render.Ref, error) {
	refs := make([]render.Ref, 0, len(routers))
	for _, r := range routers {
		parts := strings.Split(r, "/")
		if len(parts) != 3 || parts[0] != "Service" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("router %q: want Service/<namespace>/<name>", r)
		}
		refs = append(refs, render.Ref{Version: "v1", Kind: "Service", Namespace: parts[1], Name: parts[2]})
	}
	return refs, nil
}

// syncPromoted records a promoted environment's promotion in its status (which the caller
// saves), and keeps drift detection on what runs: paused while a promotion changes the
// environment, and comparing against the live release once it is done.
func (r *Reconciler) syncPromoted(ctx context.Context, es *envState) {
	if r.opts.Promotions == nil {
		return
	}
	state, ok := r.opts.Promotions.State(es.env.Name)
	if !ok {
		return
	}
	st := es.status
	st.Promotion = &state
	if live := state.Live; live != nil && (st.LastApplied == nil || st.LastApplied.Commit != live.Commit) {
		st.LastApplied = &CommitEvent{Commit: live.Commit, ShortCommit: shortCommit(live.Commit), Time: metav1.Now(), Reason: "promoted as " + string(live.Color)}
	}
	d := es.env.Target.Drift
	if d == nil {
		return
	}
	switch {
	case state.Current != nil && !es.driftPaused:
		d.Pause(es.env.Name)
		es.driftPaused = true
	case state.Current == nil && es.driftPaused:
		es.driftPaused = false
		defer d.Resume(es.env.Name)
	}
	if state.Current != nil || state.Live == nil {
		return
	}
	release := state.Live.Commit + "/" + string(state.Live.Color)
	if es.driftCommit == release {
		return
	}
	objs, err := r.liveRelease(ctx, es, state.Live)
	if err != nil {
		r.log.Error("drift detection cannot follow the promoted release", "env", es.env.Name, "commit", shortCommit(state.Live.Commit), "color", state.Live.Color, "error", err)
		return
	}
	spec := es.env.Drift
	// The previous colour stays for a rollback, and previews for the next promotion: they are
	// the promoter's, not orphans.
	spec.KeptLabels = []string{promote.LabelColor, promote.LabelPreview}
	if err := d.SetDesired(es.env.Name, spec, state.Live.Commit, objs); err != nil {
		r.log.Error("drift detection cannot follow the promoted release", "env", es.env.Name, "commit", shortCommit(state.Live.Commit), "error", err)
		return
	}
	es.driftCommit = release
}

// liveRelease returns the objects of a promoted environment as its live release runs them:
// shared objects, the live colour's workloads, and the routers selecting it.
func (r *Reconciler) liveRelease(ctx context.Context, es *envState, live *promote.Release) ([]*unstructured.Unstructured, error) {
	rendered, err := r.render(ctx, es.env, live.Commit)
	if err != nil {
		return nil, err
	}
	routers, err := RouterRefs(es.env.Promotion.Routers)
	if err != nil {
		return nil, err
	}
	plan, err := promote.Split(rendered.Objects, live.Color, "", routers)
	if err != nil {
		return nil, err
	}
	return slices.Concat(plan.Shared, plan.Colored, plan.Routers), nil
}
