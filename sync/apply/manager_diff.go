package apply

import (
	"maps"
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// equivalent reports whether the dry-run result of an apply equals the live object, that is
// whether applying would change nothing a reader of the object sees. It ignores metadata the
// server rewrites on every write and, unless the desired object declares one, the status:
// controllers change it between the read and the dry run, and the apply cannot change it.
func equivalent(live, dryRun *unstructured.Unstructured, compareStatus bool) bool {
	return reflect.DeepEqual(comparable(live, compareStatus), comparable(dryRun, compareStatus))
}

// comparable returns a shallow view of u without the fields equivalent ignores.
func comparable(u *unstructured.Unstructured, withStatus bool) map[string]any {
	out := maps.Clone(u.Object)
	if !withStatus {
		delete(out, "status")
	}
	if md, ok := u.Object["metadata"].(map[string]any); ok {
		m := maps.Clone(md)
		for _, f := range []string{"managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink"} {
			delete(m, f)
		}
		out["metadata"] = m
	}
	return out
}

// hasStatus reports whether the desired object declares a status: only then can applying it
// change the status (for kinds without a status subresource).
func hasStatus(u *unstructured.Unstructured) bool {
	_, ok := u.Object["status"]
	return ok
}
