package drift

import (
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// load reads testdata/name as one object.
func load(t testing.TB, name string) *unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &u.Object); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
	return u
}

// applied returns the form the agent applies of testdata/name, for environment prod.
func applied(t testing.TB, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := apply.AsApplied(load(t, name), "prod")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// entry is one managedFields entry of a test object.
type entry struct {
	manager string
	op      metav1.ManagedFieldsOperationType
	at      time.Time
	// fields is the FieldsV1 JSON.
	fields string
}

var (
	t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
)

// agentEntry is the agent's server-side apply.
func agentEntry(fields string) entry {
	return entry{manager: apply.FieldManager, op: metav1.ManagedFieldsOperationApply, at: t0, fields: fields}
}

// withManaged sets u's managedFields.
func withManaged(u *unstructured.Unstructured, entries ...entry) *unstructured.Unstructured {
	var mf []metav1.ManagedFieldsEntry
	for _, e := range entries {
		at := metav1.NewTime(e.at)
		mf = append(mf, metav1.ManagedFieldsEntry{
			Manager: e.manager, Operation: e.op, APIVersion: u.GetAPIVersion(), Time: &at,
			FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(e.fields)},
		})
	}
	u.SetManagedFields(mf)
	return u
}

// The agent's managed fields of deployment-desired.yaml, as the API server records them.
const deploymentAgentFields = `{"f:metadata":{"f:labels":{"f:app.kubernetes.io/managed-by":{},"f:app.kubernetes.io/name":{},"f:gitops-agent.io/environment":{}}},` +
	`"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:creationTimestamp":{},"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{` +
	`"k:{\"name\":\"api\"}":{".":{},"f:env":{"k:{\"name\":\"MODE\"}":{".":{},"f:name":{},"f:value":{}},"k:{\"name\":\"POD\"}":{".":{},"f:name":{},"f:valueFrom":{"f:fieldRef":{}}}},` +
	`"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}},"f:resources":{"f:requests":{"f:cpu":{},"f:memory":{}}}},` +
	`"k:{\"name\":\"sidecar\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`

// without returns the agent's fields with one field removed (another manager took it).
func without(fields, remove string) string {
	out := strings.Replace(fields, remove, "", 1)
	if out == fields {
		panic("field not in the set: " + remove)
	}
	return out
}

// liveDeployment returns deployment-live.yaml owned by the agent, kube-controller-manager and
// kubectl-annotate, with edit applied to it first.
func liveDeployment(t testing.TB, edit func(u *unstructured.Unstructured), extra ...entry) *unstructured.Unstructured {
	t.Helper()
	u := load(t, "deployment-live.yaml")
	if edit != nil {
		edit(u)
	}
	agent := deploymentAgentFields
	for _, e := range extra {
		if e.manager == apply.FieldManager {
			agent = e.fields
		}
	}
	entries := []entry{
		agentEntry(agent),
		{manager: "kube-controller-manager", op: metav1.ManagedFieldsOperationUpdate, at: t0, fields: `{"f:metadata":{"f:annotations":{".":{},"f:deployment.kubernetes.io/revision":{}}}}`},
		{manager: "kubectl-annotate", op: metav1.ManagedFieldsOperationUpdate, at: t0, fields: `{"f:metadata":{"f:annotations":{"f:note":{}}}}`},
	}
	for _, e := range extra {
		if e.manager != apply.FieldManager {
			entries = append(entries, e)
		}
	}
	return withManaged(u, entries...)
}

func set(path []string, v any) func(u *unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		if err := unstructured.SetNestedField(u.Object, v, path...); err != nil {
			panic(err)
		}
	}
}

// container returns a function that edits the live container name.
func container(name string, edit func(c map[string]any)) func(u *unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		for _, c := range cs {
			if m := c.(map[string]any); m["name"] == name {
				edit(m)
			}
		}
		_ = unstructured.SetNestedSlice(u.Object, cs, "spec", "template", "spec", "containers")
	}
}
