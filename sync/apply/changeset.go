package apply

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gitops-agent/gitops-agent/render"
)

// Action is what Apply or Prune did to one object.
type Action string

// Actions, in the order Summary lists them.
const (
	// ActionCreated: the object did not exist and was created.
	ActionCreated Action = "created"
	// ActionConfigured: the object existed and differed from the desired state; it was patched.
	ActionConfigured Action = "configured"
	// ActionUnchanged: the cluster already had the desired state; nothing was written.
	ActionUnchanged Action = "unchanged"
	// ActionRecreated: an immutable field changed and the object asked to be deleted and
	// created again (annotation gitops-agent.io/recreate: "true").
	ActionRecreated Action = "recreated"
	// ActionPruned: the object was deleted because the environment no longer declares it.
	ActionPruned Action = "pruned"
	// ActionSkipped: the object was deliberately left alone; Entry.Reason says why.
	ActionSkipped Action = "skipped"
	// ActionFailed: the operation failed; Entry.Err says why.
	ActionFailed Action = "failed"
)

// actions lists every action in the order Summary reports them.
func actions() []Action {
	return []Action{ActionCreated, ActionConfigured, ActionUnchanged, ActionRecreated, ActionPruned, ActionSkipped, ActionFailed}
}

// Applied reports whether the object now has the desired state in the cluster.
func (a Action) Applied() bool {
	switch a {
	case ActionCreated, ActionConfigured, ActionUnchanged, ActionRecreated:
		return true
	}
	return false
}

// Entry is the outcome for one object.
type Entry struct {
	Ref    render.Ref
	Action Action
	// Reason explains a skip or a recreate; empty otherwise.
	Reason string
	// Err is set exactly when Action is ActionFailed. Its message starts with the object
	// ("Deployment.apps/shop/api: ...") and never contains a Secret's values.
	Err error
}

// String renders the entry the way a log line or an event names it.
func (e Entry) String() string {
	switch {
	case e.Err != nil:
		return e.Err.Error()
	case e.Reason != "":
		return fmt.Sprintf("%s %s (%s)", e.Ref, e.Action, e.Reason)
	}
	return fmt.Sprintf("%s %s", e.Ref, e.Action)
}

// ChangeSet lists what an operation did, one entry per object, in the order the objects were
// handled (stage by stage, sorted within a stage).
type ChangeSet struct {
	Entries []Entry
}

// Count returns how many entries have the action.
func (c ChangeSet) Count(a Action) int {
	n := 0
	for _, e := range c.Entries {
		if e.Action == a {
			n++
		}
	}
	return n
}

// Failed returns the failed entries.
func (c ChangeSet) Failed() []Entry {
	var out []Entry
	for _, e := range c.Entries {
		if e.Action == ActionFailed {
			out = append(out, e)
		}
	}
	return out
}

// Err joins the errors of the failed entries; nil when none failed.
func (c ChangeSet) Err() error {
	var errs []error
	for _, e := range c.Entries {
		if e.Err != nil {
			errs = append(errs, e.Err)
		}
	}
	return errors.Join(errs...)
}

// Summary counts the entries by action, for example "2 created, 5 unchanged, 1 failed".
func (c ChangeSet) Summary() string {
	var parts []string
	for _, a := range actions() {
		if n := c.Count(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	if len(parts) == 0 {
		return "no objects"
	}
	return strings.Join(parts, ", ")
}
