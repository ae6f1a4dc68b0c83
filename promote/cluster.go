package promote

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
	"github.com/gitops-agent/gitops-agent/sync/inventory"
)

// scaleFieldManager owns spec.replicas of a colour scaled to zero; the next apply of the
// colour takes it back (Apply forces).
const scaleFieldManager = "gitops-agent-promote"

var (
	deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	servicesGVR    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	jobsGVR        = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
)

// matchReplicas gives each idle Deployment the replicas its live counterpart has now, so that
// an autoscaled live colour is matched. A Deployment new in this commit, or whose live copy
// runs no replica, keeps the repository's count.
func (p *Promoter) matchReplicas(ctx context.Context, e *envWorker, plan *Plan) error {
	idle := map[render.Ref]*unstructured.Unstructured{}
	for _, o := range plan.Colored {
		if r := render.RefOf(o); r.GroupKind() == gkDeployment {
			idle[key(r)] = o
		}
	}
	for _, d := range plan.Deployments {
		liveName := ColoredName(d.Name, plan.Live)
		live, err := e.cfg.Target.Client.Resource(deploymentsGVR).Namespace(d.Namespace).Get(ctx, liveName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read the replicas of live Deployment %s/%s: %w", d.Namespace, liveName, err)
		}
		n, found, _ := unstructured.NestedInt64(live.Object, "spec", "replicas")
		if !found || n <= 0 {
			continue
		}
		d.Name = ColoredName(d.Name, plan.Idle)
		if o := idle[key(d)]; o != nil {
			if err := unstructured.SetNestedField(o.Object, n, "spec", "replicas"); err != nil {
				return fmt.Errorf("%s: set spec.replicas: %w", d, err)
			}
		}
	}
	return nil
}

// scaleColor scales the environment's Deployments of colour c to zero. The colour's
// autoscalers are left in place: an autoscaler does not act on a target scaled to zero
// (ScalingActive turns False), and the colour's next deployment, which sets replicas again,
// brings it back to work without recreating it.
func (p *Promoter) scaleColor(ctx context.Context, e *envWorker, c Color) error {
	inv, err := e.cfg.Target.Inventory.Load(ctx, e.cfg.Name)
	if err != nil {
		return err
	}
	var errs []error
	patch := []byte(`{"spec":{"replicas":0}}`)
	for _, id := range inv.IDs {
		if id.Group != "apps" || id.Kind != "Deployment" {
			continue
		}
		ri := e.cfg.Target.Client.Resource(deploymentsGVR).Namespace(id.Namespace)
		live, err := ri.Get(ctx, id.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: read: %w", id, err))
			continue
		}
		lbls := live.GetLabels()
		if lbls[LabelColor] != string(c) || lbls[apply.LabelEnvironment] != e.cfg.Name {
			continue
		}
		if n, found, _ := unstructured.NestedInt64(live.Object, "spec", "replicas"); found && n == 0 {
			continue
		}
		if _, err := ri.Patch(ctx, id.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: scaleFieldManager}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("%s: scale to zero: %w", id, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("scale %s of environment %s to zero: %w", c, e.cfg.Name, err)
	}
	return nil
}

// removePreviews deletes the environment's preview Services.
func (p *Promoter) removePreviews(ctx context.Context, e *envWorker) error {
	inv, err := e.cfg.Target.Inventory.Load(ctx, e.cfg.Name)
	if err != nil {
		return err
	}
	var previews []render.Ref
	for _, id := range inv.IDs {
		if id.Group != "" || id.Kind != "Service" || !strings.HasSuffix(id.Name, previewSuffix) {
			continue
		}
		live, err := e.cfg.Target.Client.Resource(servicesGVR).Namespace(id.Namespace).Get(ctx, id.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: read: %w", id, err)
		}
		if live.GetLabels()[LabelPreview] == "true" {
			previews = append(previews, id.Ref())
		}
	}
	if len(previews) == 0 {
		return nil
	}
	if _, err := e.cfg.Target.Apply.Prune(ctx, previews, apply.DefaultPruneOptions(e.cfg.Name)); err != nil {
		return fmt.Errorf("remove the preview Services: %w", err)
	}
	return nil
}

// remember adds refs to the environment's inventory.
func (p *Promoter) remember(ctx context.Context, e *envWorker, commit string, refs []render.Ref) error {
	inv, err := e.cfg.Target.Inventory.Load(ctx, e.cfg.Name)
	if err != nil {
		return err
	}
	ids := make([]inventory.ID, len(refs))
	for i, r := range refs {
		ids[i] = inventory.IDOf(r)
	}
	merged := inv.Union(inventory.New(e.cfg.Name, commit, ids))
	merged.Commit = commit
	return e.cfg.Target.Inventory.Save(ctx, merged)
}
