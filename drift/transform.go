package drift

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
)

// lastApplied is the annotation client-side kubectl apply writes: a copy of the whole object
// that the comparison never reads.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// cachedObject is what the informers keep of a live object: the metadata the informer, its
// indexer and the work queue read, and the rest as JSON, decoded only to compare it. As
// nested maps a workload costs the cache ten times its JSON size; the agent watches
// every object of every environment, within a memory budget.
type cachedObject struct {
	metav1.TypeMeta
	metav1.ObjectMeta
	// raw is the lean object (see leanObject) as JSON; never modified once set.
	raw []byte
}

var _ runtime.Object = (*cachedObject)(nil)

// DeepCopyObject copies the metadata; raw is immutable and shared.
func (c *cachedObject) DeepCopyObject() runtime.Object {
	out := &cachedObject{TypeMeta: c.TypeMeta, raw: c.raw}
	c.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	return out
}

// object decodes the cached object.
func (c *cachedObject) object() (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(c.raw, &u.Object); err != nil {
		return nil, fmt.Errorf("decode cached %s %s/%s: %w", c.Kind, c.Namespace, c.Name, err)
	}
	return u, nil
}

// compact is the informers' cache.TransformFunc: it turns each listed or watched object into
// a cachedObject without what the comparison never reads: the status, the status
// subresource's managedFields entries and kubectl's last-applied annotation.
var _ cache.TransformFunc = compact

func compact(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		// Already compacted, or not an object of the dynamic client.
		return obj, nil
	}
	lean(u)
	raw, err := u.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode %s %s/%s for the drift cache: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	c := &cachedObject{raw: raw}
	c.APIVersion, c.Kind = u.GetAPIVersion(), u.GetKind()
	c.Name, c.Namespace, c.UID = u.GetName(), u.GetNamespace(), u.GetUID()
	c.ResourceVersion, c.Labels = u.GetResourceVersion(), u.GetLabels()
	c.CreationTimestamp, c.DeletionTimestamp = u.GetCreationTimestamp(), u.GetDeletionTimestamp()
	return c, nil
}

// lean drops from u, in place, what the comparison never reads.
func lean(u *unstructured.Unstructured) {
	delete(u.Object, "status")
	md, ok := u.Object["metadata"].(map[string]any)
	if !ok {
		return
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		delete(ann, lastApplied)
		if len(ann) == 0 {
			delete(md, "annotations")
		}
	}
	if entries, ok := md["managedFields"].([]any); ok {
		kept := entries[:0]
		for _, e := range entries {
			if m, ok := e.(map[string]any); ok && m["subresource"] == "status" {
				continue
			}
			kept = append(kept, e)
		}
		md["managedFields"] = kept
	}
}
