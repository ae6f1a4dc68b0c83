package drift

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Event reasons, on the Environment object.
const (
	reasonDetected    = "DriftDetected"
	reasonHealed      = "DriftHealed"
	reasonResolved    = "DriftResolved"
	reasonHealStopped = "HealStopped"
	reasonHealFailed  = "DriftHealFailed"
)

// maxEventMessage keeps a message within what the API server accepts for an Event (1 KiB).
const maxEventMessage = 1000

// note is one thing to tell people about: an Event and a log line, sent without the lock.
type note struct {
	env    string
	reason string
	drift  ObjectDrift
	commit string
	// heals and window describe a stopped heal.
	heals  int
	window time.Duration
	// err is a failed heal's error; the applier keeps Secret values out of it.
	err error
}

// notify emits each note's Event and log line. Neither ever holds a value: only paths,
// managers and types.
func (d *Detector) notify(notes []note) {
	for _, n := range notes {
		d.log(n)
		if d.opts.Events == nil || d.opts.EventTarget == nil {
			continue
		}
		ref, ok := d.opts.EventTarget(n.env)
		if !ok {
			continue
		}
		eventType := corev1.EventTypeWarning
		if n.reason == reasonHealed || n.reason == reasonResolved {
			eventType = corev1.EventTypeNormal
		}
		d.opts.Events.Event(ref, eventType, n.reason, truncate(n.message(), maxEventMessage))
	}
}

func (d *Detector) log(n note) {
	attrs := []any{"env", n.env, "object", n.drift.Ref.String(), "type", string(n.drift.Type)}
	if paths := n.drift.Paths(); len(paths) > 0 {
		attrs = append(attrs, "paths", paths)
	}
	if managers := n.drift.managers(); len(managers) > 0 {
		attrs = append(attrs, "managers", managers)
	}
	switch n.reason {
	case reasonDetected:
		if n.commit != "" {
			attrs = append(attrs, "commit", n.commit)
		}
		d.opts.Log.Warn("drift detected", attrs...)
	case reasonHealed:
		d.opts.Log.Info("drift healed", attrs...)
	case reasonResolved:
		d.opts.Log.Info("drift resolved", attrs...)
	case reasonHealStopped:
		d.opts.Log.Error("self-heal stopped: another writer keeps reverting the object", append(attrs, "heals", n.heals, "window", n.window.String())...)
	case reasonHealFailed:
		d.opts.Log.Error("self-heal failed", append(attrs, "error", n.err.Error())...)
	}
}

// message is the Event text.
func (n note) message() string {
	ref := n.drift.Ref.String()
	switch n.reason {
	case reasonDetected:
		switch n.drift.Type {
		case Deleted:
			return ref + " was deleted"
		case Orphan:
			return ref + " is labelled for this environment but not declared by it (not deleted)"
		case Conflict:
			return fmt.Sprintf("%s: another field manager took ownership of %s", ref, fieldList(n.drift.Fields))
		}
		return fmt.Sprintf("%s modified: %s", ref, fieldList(n.drift.Fields))
	case reasonHealed:
		return ref + " healed: the desired state was applied again"
	case reasonResolved:
		return ref + " is in sync again"
	case reasonHealStopped:
		who := n.drift.Manager
		if who == "" {
			who = "an unknown writer"
		}
		return fmt.Sprintf("%s: self-heal stopped after %d heals within %s: field manager %s keeps changing %s; healing resumes with the next commit or once the object stays in sync for %s",
			ref, n.heals, n.window, who, fieldList(n.drift.Fields), n.window)
	case reasonHealFailed:
		return fmt.Sprintf("%s: self-heal failed: %v", ref, n.err)
	}
	return ref
}

// fieldList names the drifted paths with their managers: "/spec/replicas (kubectl-patch)".
func fieldList(fields []FieldDrift) string {
	if len(fields) == 0 {
		return "(no fields)"
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Path
		if f.Manager != "" {
			parts[i] += " (" + f.Manager + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// managers returns the distinct managers of the drift's fields.
func (d ObjectDrift) managers() []string {
	var out []string
	if d.Manager != "" {
		out = append(out, d.Manager)
	}
	for _, f := range d.Fields {
		if f.Manager != "" && !slices.Contains(out, f.Manager) {
			out = append(out, f.Manager)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
