package source

import (
	"maps"
	"slices"
	"time"
)

// Reasons an Event was produced.
const (
	// ReasonStart is the first fetch of a Poller, or a Dir ready to watch.
	ReasonStart = "start"
	// ReasonPoll is a Poller's periodic fetch.
	ReasonPoll = "poll"
	// ReasonFS is an edit under a Dir.
	ReasonFS = "fs"
)

// WebhookReason is the reason a webhook from provider gives to
// Poller.Trigger: "webhook:<provider>".
func WebhookReason(provider string) string { return "webhook:" + provider }

// Event is what a source reports: a change, or an error, and what caused it.
type Event struct {
	// Reason is what started the work: ReasonStart, ReasonPoll, ReasonFS or
	// WebhookReason(provider).
	Reason string
	// TriggeredAt is when the trigger arrived (for a Dir, the first edit of
	// the debounced batch), so callers can measure commit-to-applied latency
	// by trigger.
	TriggeredAt time.Time
	Change      Change
	// Err is set when the fetch or the watch failed; Change is then empty.
	Err error
}

// Refs is what a Git source follows: the branch head and the tags. Commit
// ids are hex strings.
type Refs struct {
	Head string
	// Tags maps tag name (without refs/tags/) to the commit it points to;
	// annotated tags are peeled.
	Tags map[string]string
}

// Change is what one fetch or one debounced batch of edits changed.
type Change struct {
	// Before and After are the refs before and after a Git fetch; After is
	// the complete current state. Both are empty for a Dir.
	Before, After Refs
	// Tags lists added, moved and removed tags, sorted by name.
	Tags []TagChange
	// Paths lists the slash-separated paths, relative to a Dir's root, that
	// were created, written, removed or renamed, sorted. "." means anything
	// may have changed (the watcher lost events).
	Paths []string
	// Cloned reports that this fetch made a fresh clone, and CloneReason why
	// (no cache yet, unusable cache, URL changed).
	Cloned      bool
	CloneReason string
}

// HeadChanged reports whether the branch head moved.
func (c Change) HeadChanged() bool { return c.Before.Head != c.After.Head }

// Empty reports whether nothing changed.
func (c Change) Empty() bool {
	return !c.HeadChanged() && len(c.Tags) == 0 && len(c.Paths) == 0
}

// TagAction is what happened to a tag.
type TagAction string

// Tag actions.
const (
	TagAdded   TagAction = "added"
	TagMoved   TagAction = "moved"
	TagRemoved TagAction = "removed"
)

// TagChange is one tag that was added, moved or removed. Old is empty for an
// added tag and New for a removed one.
type TagChange struct {
	Name     string
	Action   TagAction
	Old, New string
}

// diffRefs returns the Change from before to after. A tag re-created on the
// same commit (a new annotated tag object) is not a change.
func diffRefs(before, after Refs) Change {
	ch := Change{Before: before, After: after}
	names := slices.Sorted(maps.Keys(before.Tags))
	for name := range after.Tags {
		if _, ok := before.Tags[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		old, hadOld := before.Tags[name]
		cur, hasNew := after.Tags[name]
		switch {
		case !hadOld:
			ch.Tags = append(ch.Tags, TagChange{Name: name, Action: TagAdded, New: cur})
		case !hasNew:
			ch.Tags = append(ch.Tags, TagChange{Name: name, Action: TagRemoved, Old: old})
		case old != cur:
			ch.Tags = append(ch.Tags, TagChange{Name: name, Action: TagMoved, Old: old, New: cur})
		}
	}
	return ch
}
