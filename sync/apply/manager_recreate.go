package apply

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
)

// recreate deletes live and applies the target again, for a change to immutable fields that
// the object allowed with AnnotationRecreate. Dependents (a Deployment's ReplicaSets and Pods)
// go with background propagation, so the new object does not wait for them.
func (m *Manager) recreate(ctx context.Context, t *target, ri dynamic.ResourceInterface, live *unstructured.Unstructured, fields []string, opts ApplyOptions) (Entry, *unstructured.Unstructured) {
	uid := live.GetUID()
	// The UID precondition keeps us from deleting an object someone else recreated meanwhile.
	err := ri.Delete(ctx, t.ref.Name, metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &uid},
		PropagationPolicy: new(metav1.DeletePropagationBackground),
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return t.fail("delete to recreate it", err), nil
	}
	if err := waitGone(ctx, ri, t.ref.Name, uid, opts); err != nil {
		return t.fail("delete to recreate it", err), nil
	}
	out, err := ri.Apply(ctx, t.ref.Name, t.obj, applyOptions(opts, false))
	if err != nil {
		return t.fail("create after deleting it", err), nil
	}
	return Entry{Ref: t.ref, Action: ActionRecreated, Reason: "immutable field " + strings.Join(fields, ", ") + " changed"}, out
}

// waitGone polls until the object with uid no longer exists.
func waitGone(ctx context.Context, ri dynamic.ResourceInterface, name string, uid types.UID, opts ApplyOptions) error {
	var last *unstructured.Unstructured
	err := wait.PollUntilContextTimeout(ctx, opts.PollInterval, opts.WaitTimeout, true, func(ctx context.Context) (bool, error) {
		obj, err := ri.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		last = obj
		return obj.GetUID() != uid, nil
	})
	if err != nil && wait.Interrupted(err) && ctx.Err() == nil {
		finalizers := ""
		if last != nil && len(last.GetFinalizers()) > 0 {
			finalizers = fmt.Sprintf(" (finalizers %s still pending)", strings.Join(last.GetFinalizers(), ", "))
		}
		return fmt.Errorf("still present %s after deletion%s", opts.WaitTimeout, finalizers)
	}
	return err
}
