package health

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gitops-agent/gitops-agent/render"
)

// Checker judges the health of live objects.
type Checker struct {
	reader Reader
	opts   Options
}

// NewChecker returns a Checker that reads objects with reader.
func NewChecker(reader Reader, opts Options) *Checker {
	return &Checker{reader: reader, opts: opts.withDefaults()}
}

// Check reads the object ref names and returns its health. A workload that is InProgress is
// Failed when a pod of its current revision is stuck (an image that cannot be pulled, a crash
// loop). The error reports an object that could not be read or understood; the status is then
// Unknown.
func (c *Checker) Check(ctx context.Context, ref render.Ref) (ObjectStatus, error) {
	out := ObjectStatus{Ref: ref}
	obj, err := c.reader.Get(ctx, ref)
	if apierrors.IsNotFound(err) {
		out.Result = Result{Status: NotFound, Message: "not found"}
		return out, nil
	}
	if err != nil {
		out.Result = Result{Status: Unknown, Message: "cannot read: " + err.Error()}
		return out, fmt.Errorf("%s: read: %w", ref, err)
	}
	out.Result, err = Compute(obj, c.opts)
	if err != nil {
		return out, fmt.Errorf("%s: %w", ref, err)
	}
	if out.Status != InProgress {
		return out, nil
	}
	msg, stuck, err := c.stuckPod(ctx, obj)
	if err != nil {
		// The object's own status stands; its pods only refine it.
		return out, fmt.Errorf("%s: inspect pods: %w", ref, err)
	}
	if stuck {
		out.Result = failed("%s (%s)", msg, out.Message)
	}
	return out, nil
}
