package apply

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

// verifiedStates remembers, per object, the resourceVersion at which the cluster last held the
// desired state Apply sent, and a digest of that desired state. When neither has changed since,
// the object is unchanged without a dry run: every write to an object gives it a new
// resourceVersion, so an equal one means nobody touched it. This halves the requests of a
// re-apply in the steady state, where almost every object is unchanged.
type verifiedStates struct {
	mu     sync.Mutex
	states map[render.Ref]verifiedState
}

type verifiedState struct {
	resourceVersion string
	digest          [sha256.Size]byte
}

// digest fingerprints the desired object. encoding/json writes map keys sorted, so equal
// objects have equal digests. An object JSON cannot encode cannot be sent either.
func digest(obj *unstructured.Unstructured) ([sha256.Size]byte, error) {
	raw, err := json.Marshal(obj.Object)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("encode as JSON: %w", err)
	}
	return sha256.Sum256(raw), nil
}

// unchanged reports whether the live object is still at the state verified for desired.
func (v *verifiedStates) unchanged(key render.Ref, live *unstructured.Unstructured, desired [sha256.Size]byte) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.states[key]
	return ok && s.resourceVersion == live.GetResourceVersion() && s.digest == desired
}

// record remembers that the cluster held desired at the resourceVersion of obj.
func (v *verifiedStates) record(key render.Ref, obj *unstructured.Unstructured, desired [sha256.Size]byte) {
	if obj == nil || obj.GetResourceVersion() == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.states == nil {
		v.states = map[render.Ref]verifiedState{}
	}
	v.states[key] = verifiedState{resourceVersion: obj.GetResourceVersion(), digest: desired}
}

// forget drops what is known about the object.
func (v *verifiedStates) forget(key render.Ref) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.states, key)
}
