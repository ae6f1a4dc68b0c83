package health

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// daemonSetGenerationLabel is set by the DaemonSet controller on each pod to the generation
// of the template it was made from; apps/v1 does not name it.
const daemonSetGenerationLabel = "pod-template-generation"

// stuckPod looks at the pods of obj's current revision, for a workload kind, and reports the
// first that is stuck (see stuckReason): its workload cannot progress either. Pods of older
// revisions are left out: a rollout that fixes a crash loop must not fail on the pods it is
// replacing.
func (c *Checker) stuckPod(ctx context.Context, obj *unstructured.Unstructured) (string, bool, error) {
	var owner types.UID
	var selector *metav1.LabelSelector
	var revision func(p *corev1.Pod) bool
	switch obj.GroupVersionKind().GroupKind().String() {
	case "Deployment.apps":
		d := &appsv1.Deployment{}
		if err := fromUnstructured(obj, d); err != nil {
			return "", false, err
		}
		rs, err := c.newReplicaSet(ctx, d)
		if err != nil || rs == nil {
			return "", false, err
		}
		owner, selector = rs.UID, rs.Spec.Selector
	case "ReplicaSet.apps":
		rs := &appsv1.ReplicaSet{}
		if err := fromUnstructured(obj, rs); err != nil {
			return "", false, err
		}
		owner, selector = rs.UID, rs.Spec.Selector
	case "StatefulSet.apps":
		s := &appsv1.StatefulSet{}
		if err := fromUnstructured(obj, s); err != nil {
			return "", false, err
		}
		owner, selector = s.UID, s.Spec.Selector
		if rev := s.Status.UpdateRevision; rev != "" {
			revision = func(p *corev1.Pod) bool { return p.Labels[appsv1.ControllerRevisionHashLabelKey] == rev }
		}
	case "DaemonSet.apps":
		d := &appsv1.DaemonSet{}
		if err := fromUnstructured(obj, d); err != nil {
			return "", false, err
		}
		owner, selector = d.UID, d.Spec.Selector
		gen := strconv.FormatInt(d.Generation, 10)
		revision = func(p *corev1.Pod) bool {
			g, ok := p.Labels[daemonSetGenerationLabel]
			return !ok || g == gen
		}
	case "Job.batch":
		j := &batchv1.Job{}
		if err := fromUnstructured(obj, j); err != nil {
			return "", false, err
		}
		owner, selector = j.UID, j.Spec.Selector
	default:
		return "", false, nil
	}
	pods, err := c.ownedPods(ctx, obj.GetNamespace(), owner, selector)
	if err != nil {
		return "", false, err
	}
	for _, p := range pods {
		if revision != nil && !revision(p) {
			continue
		}
		if msg, stuck := podStuck(p); stuck {
			return fmt.Sprintf("pod %s: %s", p.Name, msg), true, nil
		}
	}
	return "", false, nil
}

// newReplicaSet returns the ReplicaSet of the Deployment's current revision, or nil when the
// controller has not made it yet.
func (c *Checker) newReplicaSet(ctx context.Context, d *appsv1.Deployment) (*appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("Deployment %s/%s: spec.selector: %w", d.Namespace, d.Name, err)
	}
	items, err := c.reader.List(ctx, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}, d.Namespace, sel)
	if err != nil {
		return nil, fmt.Errorf("list ReplicaSets of Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	const revisionAnnotation = "deployment.kubernetes.io/revision"
	want := d.Annotations[revisionAnnotation]
	for i := range items {
		rs := &appsv1.ReplicaSet{}
		if err := fromUnstructured(&items[i], rs); err != nil {
			return nil, err
		}
		if ctrl := metav1.GetControllerOf(rs); ctrl != nil && ctrl.UID == d.UID && want != "" && rs.Annotations[revisionAnnotation] == want {
			return rs, nil
		}
	}
	return nil, nil
}

// ownedPods lists the pods matching selector in namespace whose controller is owner, sorted by
// name so that the reported pod is stable.
func (c *Checker) ownedPods(ctx context.Context, namespace string, owner types.UID, selector *metav1.LabelSelector) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return nil, fmt.Errorf("selector: %w", err)
	}
	items, err := c.reader.List(ctx, schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, namespace, sel)
	if err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", namespace, err)
	}
	var pods []*corev1.Pod
	for i := range items {
		p := &corev1.Pod{}
		if err := fromUnstructured(&items[i], p); err != nil {
			return nil, err
		}
		if ctrl := metav1.GetControllerOf(p); ctrl != nil && ctrl.UID == owner {
			pods = append(pods, p)
		}
	}
	slices.SortFunc(pods, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return pods, nil
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		return fmt.Errorf("read %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return nil
}
