package drift

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

// envState is what the detector knows of one environment. The detector's mutex guards it.
type envState struct {
	name   string
	spec   EnvSpec
	commit string
	// ignore are spec.Ignore's valid rules and, with IgnoreHPAReplicas, the HPA rules.
	ignore  []IgnoreRule
	desired map[ident]*desiredObject
	drifts  map[ident]*driftEntry
	heals   map[ident]*healState
	paused  bool
	// gen changes with every SetDesired, so that a comparison started against an older desired
	// state is discarded rather than recorded.
	gen uint64
	// kinds are the kinds that have had a gitops_agent_drift_objects series, so that a kind
	// whose drift is gone reads 0 rather than its last count.
	kinds map[string]bool
}

// kept reports whether an object with labels is kept beside the desired state (see
// EnvSpec.KeptLabels), and so is no orphan.
func (st *envState) kept(labels map[string]string) bool {
	for _, l := range st.spec.KeptLabels {
		if _, ok := labels[l]; ok {
			return true
		}
	}
	return false
}

func newEnvState(name string) *envState {
	return &envState{name: name, drifts: map[ident]*driftEntry{}, heals: map[ident]*healState{}, kinds: map[string]bool{}}
}

// desiredObject is one object of an environment's desired state.
type desiredObject struct {
	// raw is the applied form (apply.AsApplied) as JSON, decoded for each comparison: as
	// nested maps every object would cost several times more memory, for all the time
	// between two commits.
	raw []byte
	key objectKey
	ref render.Ref
}

// object decodes the applied form.
func (o *desiredObject) object() (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(o.raw, &u.Object); err != nil {
		return nil, fmt.Errorf("decode desired %s: %w", o.ref, err)
	}
	return u, nil
}

// driftEntry is one object of the report.
type driftEntry struct {
	ObjectDrift
	key objectKey
	// healed is set when a heal was applied since the drift was detected, so that its end is
	// reported as healed rather than resolved.
	healed bool
}

// healState is the self-heal history of one object.
type healState struct {
	// heals are the times of recent heals, within the flap window.
	heals []time.Time
	// failures counts the failed heals in a row, which lengthen the backoff.
	failures int
	// next is the earliest time of the next heal.
	next time.Time
	// flapping stops healing; labels are the series of the flapping gauge to delete later.
	flapping bool
	labels   map[string]string
	// inSyncSince is when the object was last seen in sync after drifting, zero while drifted.
	inSyncSince time.Time
}

// recent drops heals older than window and returns how many remain.
func (h *healState) recent(now time.Time, window time.Duration) int {
	h.heals = slices.DeleteFunc(h.heals, func(t time.Time) bool { return now.Sub(t) >= window })
	return len(h.heals)
}

// report returns a copy of the environment's report.
func (st *envState) report() Report {
	r := Report{Env: st.name, Commit: st.commit, Objects: make([]ObjectDrift, 0, len(st.drifts))}
	for _, e := range st.drifts {
		o := e.ObjectDrift
		o.Fields = slices.Clone(o.Fields)
		r.Objects = append(r.Objects, o)
	}
	slices.SortFunc(r.Objects, func(a, b ObjectDrift) int { return refCompare(a.Ref, b.Ref) })
	return r
}

// keys returns every object key the environment's report depends on: its desired objects and
// the objects of its report.
func (st *envState) keys() []objectKey {
	out := make([]objectKey, 0, len(st.desired)+len(st.drifts))
	for _, o := range st.desired {
		out = append(out, o.key)
	}
	for id, e := range st.drifts {
		if _, ok := st.desired[id]; !ok {
			out = append(out, e.key)
		}
	}
	return out
}

// kindCounts returns the number of drifted objects by kind, every kind seen before included.
func (st *envState) kindCounts() map[string]int {
	counts := map[string]int{}
	for k := range st.kinds {
		counts[k] = 0
	}
	for _, e := range st.drifts {
		counts[e.Ref.Kind]++
		st.kinds[e.Ref.Kind] = true
	}
	return counts
}
