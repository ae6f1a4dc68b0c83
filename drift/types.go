package drift

import (
	"time"

	"github.com/gitops-agent/gitops-agent/render"
)

// Type is the kind of difference between an object's desired and live state.
type Type string

const (
	// Modified: a field the agent applied has another value in the cluster.
	Modified Type = "Modified"
	// Deleted: an object of the desired set is not in the cluster.
	Deleted Type = "Deleted"
	// Conflict: every applied value is still in place, but another field manager took
	// ownership of a field the agent applied (a forced server-side apply), so its next change
	// will not be the agent's.
	Conflict Type = "Conflict"
	// Orphan: an object labelled as applied for the environment that the environment no
	// longer declares. It is reported, never deleted.
	Orphan Type = "Orphan"
)

// metricLabel is the type as the metrics spell it.
func (t Type) metricLabel() string {
	switch t {
	case Modified:
		return "modified"
	case Deleted:
		return "deleted"
	case Conflict:
		return "conflict"
	case Orphan:
		return "orphan"
	}
	return "none"
}

// Heals reports whether self-heal re-applies objects with this drift.
func (t Type) Heals() bool { return t == Modified || t == Deleted || t == Conflict }

// Report is the current drift of one environment.
type Report struct {
	Env string `json:"env"`
	// Commit is the revision the desired state was rendered from.
	Commit string `json:"commit,omitempty"`
	// Objects are the objects in drift, sorted by Ref.
	Objects []ObjectDrift `json:"objects"`
}

// ObjectDrift is the drift of one object. The zero Type means the object is in sync.
type ObjectDrift struct {
	Ref  render.Ref `json:"ref"`
	Type Type       `json:"type,omitempty"`
	// Fields are the fields that differ (Modified) or that another manager took over
	// (Conflict, and then Desired equals Live), in the order of the desired object with map
	// keys sorted. Deleted and Orphan drifts have none.
	Fields []FieldDrift `json:"fields,omitempty"`
	// DetectedAt is when the drift was first seen; it stays while the drift lasts, even when
	// its fields change.
	DetectedAt time.Time `json:"detectedAt"`
	// Flapping means another writer kept undoing the heals and healing has stopped for the
	// object until the next commit or until it stays in sync for FlapWindow.
	Flapping bool `json:"flapping,omitempty"`
	// Manager is the other field manager involved, when known: the one that owns the drifted
	// fields now (the most recent one when several do).
	Manager string `json:"manager,omitempty"`
}

// Drifted reports whether the object is out of sync.
func (d ObjectDrift) Drifted() bool { return d.Type != "" }

// Paths returns the JSON pointers of the drifted fields.
func (d ObjectDrift) Paths() []string {
	out := make([]string, len(d.Fields))
	for i, f := range d.Fields {
		out[i] = f.Path
	}
	return out
}

// FieldDrift is one drifted field.
type FieldDrift struct {
	// Path is the JSON pointer (RFC 6901) of the field in the desired object; list items are
	// numbered as in the desired object, even where the live list orders them differently.
	Path string `json:"path"`
	// Manager owns the live value now (from managedFields), when known.
	Manager string `json:"manager,omitempty"`
	// Desired and Live are short renderings of the two values, "(absent)" when missing and
	// always "(redacted)" for a Secret's data and stringData.
	Desired string `json:"desired"`
	Live    string `json:"live"`
}

// Renderings that stand in for a value.
const (
	absent          = "(absent)"
	redacted        = "(redacted)"
	redactedChanged = "(redacted, changed)"
)

// IgnoreRule excludes fields of some objects of an environment from drift detection.
type IgnoreRule struct {
	// Group, Kind, Namespace and Name select the objects; empty selects any. Name may be a
	// path.Match glob ("api-*").
	Group, Kind, Namespace, Name string
	// Paths are JSON pointers ("/spec/replicas", "/data/tls.crt"); a field is ignored when
	// its path is one of them or lies below one. A segment "*" matches any one segment
	// ("/spec/template/spec/containers/*/image").
	Paths []string
}

// EnvSpec is what an environment asks of drift detection.
type EnvSpec struct {
	// SelfHeal re-applies drifted objects (Modified, Deleted, Conflict; never orphans).
	SelfHeal bool
	Ignore   []IgnoreRule
	// IgnoreHPAReplicas ignores /spec/replicas of a workload targeted by a
	// HorizontalPodAutoscaler (autoscaling/v1 or v2 scaleTargetRef) of the same environment.
	IgnoreHPAReplicas bool
	// KeptLabels name labels whose objects are never orphans although they are not desired:
	// a promoted environment keeps its previous colour (labelled with its colour) for a
	// rollback, and its preview Services.
	KeptLabels []string
}
