package reconcile

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/drift"
)

// DriftDetector compares what an environment applied with the live cluster; *drift.Detector
// is one.
type DriftDetector interface {
	// Pause stops comparing env while an apply writes it, Resume starts again.
	Pause(env string)
	Resume(env string)
	SetDesired(env string, spec drift.EnvSpec, commit string, objs []*unstructured.Unstructured) error
	Report(env string) drift.Report
}

// maxDriftItems bounds the drifted objects a status lists: `gitops-agent diff` shows them all.
const maxDriftItems = 20

// DriftStatus summarises an environment's drift in its status.
type DriftStatus struct {
	// Objects counts the drifted objects.
	Objects int `json:"objects"`
	// Items lists the first of them.
	Items []DriftItem `json:"items,omitempty"`
}

// DriftItem is one drifted object as the status shows it: paths, never values.
type DriftItem struct {
	Object   string      `json:"object"`
	Type     string      `json:"type"`
	Paths    []string    `json:"paths,omitempty"`
	Managers []string    `json:"managers,omitempty"`
	Since    metav1.Time `json:"since"`
	Flapping bool        `json:"flapping,omitempty"`
}

// driftApplied tells the detector what env now looks like; a detector that refuses it keeps
// the previous objects, which is reported but does not fail the sync.
func (r *Reconciler) driftApplied(es *envState, commit string, objs []*unstructured.Unstructured) {
	d := es.env.Target.Drift
	if d == nil {
		return
	}
	if err := d.SetDesired(es.env.Name, es.env.Drift, commit, objs); err != nil {
		r.log.Error("drift detection cannot follow the applied commit", "env", es.env.Name, "commit", shortCommit(commit), "error", err)
		return
	}
	es.driftCommit = commit
}

// ensureDriftDesired gives the detector the environment's last applied commit when it has none
// yet: after a restart, an environment whose newest commit is refused or waits for a manual
// sync still runs its last applied one, and drift is measured against that.
func (r *Reconciler) ensureDriftDesired(ctx context.Context, es *envState) {
	st := es.status
	if es.env.Target.Drift == nil || st.LastApplied == nil || es.driftCommit == st.LastApplied.Commit {
		return
	}
	rendered, err := r.render(ctx, es.env, st.LastApplied.Commit)
	if err != nil {
		r.log.Error("drift detection: cannot render the applied commit", "env", es.env.Name, "commit", st.LastApplied.ShortCommit, "error", err)
		return
	}
	objs := make([]*unstructured.Unstructured, len(rendered.Objects))
	for i, o := range rendered.Objects {
		objs[i] = o.Obj
	}
	r.driftApplied(es, st.LastApplied.Commit, objs)
}

// refreshDrift copies the detector's report into the status (which the caller saves).
func (r *Reconciler) refreshDrift(es *envState) {
	d := es.env.Target.Drift
	if d == nil {
		return
	}
	rep := d.Report(es.env.Name)
	if len(rep.Objects) == 0 {
		es.status.Drift = nil
		return
	}
	ds := &DriftStatus{Objects: len(rep.Objects)}
	for i, o := range rep.Objects {
		if i == maxDriftItems {
			break
		}
		item := DriftItem{Object: o.Ref.String(), Type: string(o.Type), Since: metav1.NewTime(o.DetectedAt.Truncate(time.Second)), Flapping: o.Flapping}
		managers := map[string]bool{}
		if o.Manager != "" {
			managers[o.Manager] = true
			item.Managers = append(item.Managers, o.Manager)
		}
		for _, f := range o.Fields {
			item.Paths = append(item.Paths, f.Path)
			if f.Manager != "" && !managers[f.Manager] {
				managers[f.Manager] = true
				item.Managers = append(item.Managers, f.Manager)
			}
		}
		ds.Items = append(ds.Items, item)
	}
	es.status.Drift = ds
}

// String is a one-line account of a drift status, for `gitops-agent status`.
func (d *DriftStatus) String() string {
	if d == nil || d.Objects == 0 {
		return "none"
	}
	first := d.Items[0]
	s := fmt.Sprintf("%d object(s), e.g. %s %s", d.Objects, first.Object, first.Type)
	if len(first.Paths) > 0 {
		s += " at " + first.Paths[0]
	}
	return s
}
