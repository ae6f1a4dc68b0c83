package drift

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

var deploymentRef = render.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}

func TestCompareDeployment(t *testing.T) {
	imagePatched := `{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"api\"}":{"f:image":{}}}}}}}`
	tests := []struct {
		name   string
		live   *unstructured.Unstructured
		ignore []IgnoreRule
		want   ObjectDrift
	}{
		{
			name: "defaults, status, other managers' fields, equivalent quantities and list order are no drift",
			live: liveDeployment(t, nil),
			want: ObjectDrift{Ref: deploymentRef},
		},
		{
			name: "image patched by kubectl",
			live: liveDeployment(t, container("api", func(c map[string]any) { c["image"] = "shop/api:hacked" }),
				agentEntry(without(deploymentAgentFields, `"f:image":{},`)),
				entry{manager: "kubectl-patch", op: metav1.ManagedFieldsOperationUpdate, at: t1, fields: imagePatched}),
			want: ObjectDrift{Ref: deploymentRef, Type: Modified, Manager: "kubectl-patch", Fields: []FieldDrift{
				{Path: "/spec/template/spec/containers/0/image", Manager: "kubectl-patch", Desired: "shop/api:1.0", Live: "shop/api:hacked"},
			}},
		},
		{
			name:   "replicas scaled, ignored by a rule",
			live:   liveDeployment(t, set([]string{"spec", "replicas"}, int64(5))),
			ignore: []IgnoreRule{{Group: "apps", Kind: "Deployment", Name: "a*", Paths: []string{"/spec/replicas"}}},
			want:   ObjectDrift{Ref: deploymentRef},
		},
		{
			name:   "replicas scaled, rule for another object",
			live:   liveDeployment(t, set([]string{"spec", "replicas"}, int64(5))),
			ignore: []IgnoreRule{{Kind: "Deployment", Name: "web", Paths: []string{"/spec/replicas"}}},
			want: ObjectDrift{Ref: deploymentRef, Type: Modified, Fields: []FieldDrift{
				{Path: "/spec/replicas", Desired: "2", Live: "5"},
			}},
		},
		{
			name:   "wildcard segment ignores every container's image",
			live:   liveDeployment(t, container("sidecar", func(c map[string]any) { c["image"] = "x" })),
			ignore: []IgnoreRule{{Paths: []string{"/spec/template/spec/containers/*/image"}}},
			want:   ObjectDrift{Ref: deploymentRef},
		},
		{
			name: "env value changed, matched by name",
			live: liveDeployment(t, container("api", func(c map[string]any) {
				c["env"].([]any)[0].(map[string]any)["value"] = "debug"
			})),
			want: ObjectDrift{Ref: deploymentRef, Type: Modified, Fields: []FieldDrift{
				{Path: "/spec/template/spec/containers/0/env/0/value", Desired: "prod", Live: "debug"},
			}},
		},
		{
			name: "memory changed, not just respelled",
			live: liveDeployment(t, container("api", func(c map[string]any) {
				c["resources"].(map[string]any)["requests"].(map[string]any)["memory"] = "2Gi"
			})),
			want: ObjectDrift{Ref: deploymentRef, Type: Modified, Fields: []FieldDrift{
				{Path: "/spec/template/spec/containers/0/resources/requests/memory", Desired: "1Gi", Live: "2Gi"},
			}},
		},
		{
			name: "container removed",
			live: liveDeployment(t, func(u *unstructured.Unstructured) {
				cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
				_ = unstructured.SetNestedSlice(u.Object, cs[1:], "spec", "template", "spec", "containers")
			}),
			want: ObjectDrift{Ref: deploymentRef, Type: Modified, Fields: []FieldDrift{
				{Path: "/spec/template/spec/containers/1", Desired: `{"image":"shop/proxy:2","name":"sidecar"}`, Live: absent},
			}},
		},
		{
			name: "label removed",
			live: liveDeployment(t, func(u *unstructured.Unstructured) {
				l := u.GetLabels()
				delete(l, "app.kubernetes.io/name")
				u.SetLabels(l)
			}),
			want: ObjectDrift{Ref: deploymentRef, Type: Modified, Fields: []FieldDrift{
				{Path: "/metadata/labels/app.kubernetes.io~1name", Desired: "api", Live: absent},
			}},
		},
		{
			name: "replicas taken over by a forced apply with the same value",
			live: liveDeployment(t, nil,
				agentEntry(without(deploymentAgentFields, `"f:replicas":{},`)),
				entry{manager: "autoscaler", op: metav1.ManagedFieldsOperationApply, at: t1, fields: `{"f:spec":{"f:replicas":{}}}`}),
			want: ObjectDrift{Ref: deploymentRef, Type: Conflict, Manager: "autoscaler", Fields: []FieldDrift{
				{Path: "/spec/replicas", Manager: "autoscaler", Desired: "2", Live: "2"},
			}},
		},
		{
			name: "image written back by hand: an update that owns the desired value is no drift",
			live: liveDeployment(t, nil,
				agentEntry(without(deploymentAgentFields, `"f:image":{},`)),
				entry{manager: "kubectl-patch", op: metav1.ManagedFieldsOperationUpdate, at: t1, fields: imagePatched}),
			want: ObjectDrift{Ref: deploymentRef},
		},
		{
			name: "deleted",
			live: nil,
			want: ObjectDrift{Ref: deploymentRef, Type: Deleted},
		},
		{
			name: "being deleted",
			live: liveDeployment(t, func(u *unstructured.Unstructured) {
				ts := metav1.NewTime(t1)
				u.SetDeletionTimestamp(&ts)
			}),
			want: ObjectDrift{Ref: deploymentRef, Type: Deleted},
		},
	}
	desired := applied(t, "deployment-desired.yaml")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(desired, tt.live, tt.ignore)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Compare (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareHPAReplicas(t *testing.T) {
	hpa := func(apiVersion, kind, name string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
			"metadata": map[string]any{"name": "api", "namespace": "shop"},
			"spec":     map[string]any{"scaleTargetRef": map[string]any{"apiVersion": apiVersion, "kind": kind, "name": name}},
		}}
	}
	live := liveDeployment(t, set([]string{"spec", "replicas"}, int64(7)))
	desired := applied(t, "deployment-desired.yaml")
	tests := []struct {
		name    string
		objs    []*unstructured.Unstructured
		drifted bool
	}{
		{"targeted by an HPA", []*unstructured.Unstructured{desired, hpa("apps/v1", "Deployment", "api")}, false},
		{"HPA targets another deployment", []*unstructured.Unstructured{desired, hpa("apps/v1", "Deployment", "web")}, true},
		{"HPA targets another kind", []*unstructured.Unstructured{desired, hpa("apps/v1", "StatefulSet", "api")}, true},
		{"no HPA", []*unstructured.Unstructured{desired}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(desired, live, HPAIgnoreRules(tt.objs))
			if got.Drifted() != tt.drifted {
				t.Errorf("Drifted() = %v, want %v (%+v)", got.Drifted(), tt.drifted, got)
			}
		})
	}
}

func TestCompareService(t *testing.T) {
	ref := render.Ref{Version: "v1", Kind: "Service", Namespace: "shop", Name: "api"}
	tests := []struct {
		name string
		edit func(u *unstructured.Unstructured)
		want ObjectDrift
	}{
		{"ports matched by port and defaulted protocol, targetPort 8080 as \"8080\"", nil, ObjectDrift{Ref: ref}},
		{"targetPort changed", func(u *unstructured.Unstructured) {
			ports, _, _ := unstructured.NestedSlice(u.Object, "spec", "ports")
			ports[1].(map[string]any)["targetPort"] = int64(8081)
			_ = unstructured.SetNestedSlice(u.Object, ports, "spec", "ports")
		}, ObjectDrift{Ref: ref, Type: Modified, Fields: []FieldDrift{{Path: "/spec/ports/0/targetPort", Desired: "8080", Live: "8081"}}}},
		{"port protocol changed to UDP", func(u *unstructured.Unstructured) {
			ports, _, _ := unstructured.NestedSlice(u.Object, "spec", "ports")
			ports[0].(map[string]any)["protocol"] = "UDP"
			_ = unstructured.SetNestedSlice(u.Object, ports, "spec", "ports")
		}, ObjectDrift{Ref: ref, Type: Modified, Fields: []FieldDrift{{Path: "/spec/ports/1", Desired: `{"name":"metrics","port":9090,"protocol":"TCP","targetPort":9090}`, Live: absent}}}},
	}
	desired := applied(t, "service-desired.yaml")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := load(t, "service-live.yaml")
			if tt.edit != nil {
				tt.edit(live)
			}
			got := Compare(desired, live, nil)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Compare (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareCustomResource(t *testing.T) {
	ref := render.Ref{Group: "example.com", Version: "v1", Kind: "Widget", Namespace: "shop", Name: "w"}
	tests := []struct {
		name string
		edit func(u *unstructured.Unstructured)
		want ObjectDrift
	}{
		{"containers matched by name, quantities by amount", nil, ObjectDrift{Ref: ref}},
		{"atomic list reordered", set([]string{"spec", "steps"}, []any{"two", "one"}), ObjectDrift{Ref: ref, Type: Modified, Fields: []FieldDrift{
			{Path: "/spec/steps/0", Desired: "one", Live: "two"}, {Path: "/spec/steps/1", Desired: "two", Live: "one"},
		}}},
		{"atomic list grown", set([]string{"spec", "steps"}, []any{"one", "two", "three"}), ObjectDrift{Ref: ref, Type: Modified, Fields: []FieldDrift{
			{Path: "/spec/steps", Desired: `["one","two"]`, Live: `["one","two","three"]`},
		}}},
	}
	desired := applied(t, "widget-desired.yaml")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := load(t, "widget-live.yaml")
			if tt.edit != nil {
				tt.edit(live)
			}
			got := Compare(desired, live, nil)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Compare (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareSecret(t *testing.T) {
	ref := render.Ref{Version: "v1", Kind: "Secret", Namespace: "shop", Name: "db"}
	tests := []struct {
		name string
		edit func(u *unstructured.Unstructured)
		want ObjectDrift
	}{
		{"data and stringData in place", nil, ObjectDrift{Ref: ref}},
		{"data value changed", set([]string{"data", "password"}, "bGVha2VkLXZhbHVl"), ObjectDrift{Ref: ref, Type: Modified, Fields: []FieldDrift{
			{Path: "/data/password", Desired: redacted, Live: redacted},
		}}},
		{"stringData value changed", set([]string{"data", "token"}, "b3RoZXI="), ObjectDrift{Ref: ref, Type: Modified, Fields: []FieldDrift{
			{Path: "/data/token", Desired: redacted, Live: redacted},
		}}},
		{"data key removed", func(u *unstructured.Unstructured) { unstructured.RemoveNestedField(u.Object, "data", "password") }, ObjectDrift{Ref: ref, Type: Modified, Fields: []FieldDrift{
			{Path: "/data/password", Desired: redacted, Live: redacted},
		}}},
	}
	desired := applied(t, "secret-desired.yaml")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := load(t, "secret-live.yaml")
			if tt.edit != nil {
				tt.edit(live)
			}
			got := Compare(desired, live, nil)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Compare (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEqualValues(t *testing.T) {
	tests := []struct {
		desired, live any
		want          bool
	}{
		{"500m", "0.5", true},
		{"0.5", "500m", true},
		{"1Gi", "1024Mi", true},
		{"1Gi", "1G", false},
		{int64(8080), "8080", true},
		{"8080", int64(8080), true},
		{float64(2), int64(2), true},
		{int64(2), int64(3), false},
		{"8080", int64(8081), false},
		{true, "true", false},
		{"a", "b", false},
		{nil, nil, true},
		{map[string]any{"cpu": "1"}, map[string]any{"cpu": "1000m"}, true},
		{[]any{"a"}, []any{"a", "b"}, false},
	}
	for _, tt := range tests {
		t.Run(show(tt.desired, true)+" vs "+show(tt.live, true), func(t *testing.T) {
			if got := equalValues(tt.desired, tt.live, ""); got != tt.want {
				t.Errorf("equalValues = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("string-typed fields compare exactly", func(t *testing.T) {
		if equalValues("1Gi", "1024Mi", "string") {
			t.Error("quantities compared by amount in a string field")
		}
	})
}

func TestIgnoreRuleValidate(t *testing.T) {
	tests := []struct {
		rule    IgnoreRule
		wantErr bool
	}{
		{IgnoreRule{Kind: "Deployment", Paths: []string{"/spec/replicas"}}, false},
		{IgnoreRule{Name: "api-[", Paths: []string{"/spec/replicas"}}, true},
		{IgnoreRule{Paths: []string{"spec/replicas"}}, true},
		{IgnoreRule{Kind: "Deployment"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.rule.Name+tt.rule.Kind+"/"+show(tt.rule.Paths, true), func(t *testing.T) {
			if err := tt.rule.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestIgnoreFor(t *testing.T) {
	desired := applied(t, "deployment-desired.yaml")
	hpa := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
		"metadata": map[string]any{"name": "api", "namespace": "shop"},
		"spec":     map[string]any{"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}},
	}}
	objs := []*unstructured.Unstructured{desired, hpa}
	rule := IgnoreRule{Kind: "Deployment", Paths: []string{"/metadata/annotations"}}
	tests := []struct {
		name string
		spec EnvSpec
		want []IgnoreRule
	}{
		{"HPA default", EnvSpec{IgnoreHPAReplicas: true}, []IgnoreRule{{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "api", Paths: []string{"/spec/replicas"}}}},
		{"HPA default off", EnvSpec{Ignore: []IgnoreRule{rule}}, []IgnoreRule{rule}},
		{"rules for other objects and invalid rules left out", EnvSpec{Ignore: []IgnoreRule{
			{Kind: "Service", Paths: []string{"/spec"}}, {Kind: "Deployment", Paths: []string{"spec"}},
		}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := IgnoreFor(tt.spec, objs, desired)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("IgnoreFor (-want +got):\n%s", diff)
			}
		})
	}
}
