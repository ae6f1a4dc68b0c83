package health

import (
	"fmt"

	"github.com/gitops-agent/gitops-agent/render"
)

// Status is how far one object is from its desired state.
type Status string

// Statuses.
const (
	// Current: the object reached the state it was applied for (ready, available, complete).
	Current Status = "Current"
	// InProgress: the object is getting there; waiting longer may make it Current.
	InProgress Status = "InProgress"
	// Failed: the object will not get there without a change (a failed Job, a rollout past its
	// progress deadline, a pod that cannot pull its image).
	Failed Status = "Failed"
	// Terminating: the object is being deleted.
	Terminating Status = "Terminating"
	// NotFound: the object does not exist.
	NotFound Status = "NotFound"
	// Unknown: the object could not be read or its status not understood.
	Unknown Status = "Unknown"
)

// Result is the status of one object with a message saying why.
type Result struct {
	Status  Status
	Message string
}

func current(format string, args ...any) Result {
	return Result{Status: Current, Message: fmt.Sprintf(format, args...)}
}

func inProgress(format string, args ...any) Result {
	return Result{Status: InProgress, Message: fmt.Sprintf(format, args...)}
}

func failed(format string, args ...any) Result {
	return Result{Status: Failed, Message: fmt.Sprintf(format, args...)}
}

// ObjectStatus is the result for one object.
type ObjectStatus struct {
	Ref render.Ref
	Result
}

func (s ObjectStatus) String() string {
	return fmt.Sprintf("%s %s: %s", s.Ref, s.Status, s.Message)
}
