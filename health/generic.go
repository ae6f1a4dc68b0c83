package health

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// genericHealth judges kinds it does not know by the conventions most controllers follow: a
// status.observedGeneration that catches up with metadata.generation, and the kstatus
// conditions Stalled, Reconciling and Ready. A kind that reports none of them is Current as
// soon as it exists: ConfigMaps, Secrets, RBAC and most cluster configuration.
func genericHealth(obj *unstructured.Unstructured) (Result, error) {
	if observed, ok := observedGeneration(obj); ok && observed < obj.GetGeneration() {
		return inProgress("generation %d is not observed yet (controller at %d)", obj.GetGeneration(), observed), nil
	}
	conds := conditions(obj)
	if c, ok := conds["Stalled"]; ok && c.status == "True" {
		return failed("stalled%s", reasonMessage(c.reason, c.message)), nil
	}
	if c, ok := conds["Reconciling"]; ok && c.status == "True" {
		return inProgress("reconciling%s", reasonMessage(c.reason, c.message)), nil
	}
	if c, ok := conds["Ready"]; ok {
		if c.status == "True" {
			return current("ready%s", reasonMessage("", c.message)), nil
		}
		return inProgress("not ready%s", reasonMessage(c.reason, c.message)), nil
	}
	return current("exists; its kind reports no readiness"), nil
}

// observedGeneration reads status.observedGeneration, an integer however the object was
// decoded (client-go gives int64, a plain JSON decoder float64).
func observedGeneration(obj *unstructured.Unstructured) (int64, bool) {
	v, found, _ := unstructured.NestedFieldNoCopy(obj.Object, "status", "observedGeneration")
	if !found {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		return int64(n), true
	}
	return 0, false
}

type condition struct{ status, reason, message string }

// conditions reads status.conditions by type; malformed entries are ignored.
func conditions(obj *unstructured.Unstructured) map[string]condition {
	list, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	out := map[string]condition{}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		typ, _ := m["type"].(string)
		c := condition{}
		c.status, _ = m["status"].(string)
		c.reason, _ = m["reason"].(string)
		c.message, _ = m["message"].(string)
		if typ != "" {
			out[typ] = c
		}
	}
	return out
}
