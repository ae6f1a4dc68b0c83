package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/gitops-agent/gitops-agent/render"
)

// fakeAPIServer answers dry-run applies like an API server that knows the core kinds and the
// "shop" namespace, and rejects objects by name.
type fakeAPIServer struct {
	mu       sync.Mutex
	requests []string
	rejects  map[string]error // by object name
}

func (s *fakeAPIServer) react(action clienttesting.Action) (bool, runtime.Object, error) {
	patch := action.(clienttesting.PatchActionImpl)
	s.mu.Lock()
	s.requests = append(s.requests, fmt.Sprintf("%s %s/%s", patch.Resource.Resource, patch.Namespace, patch.Name))
	s.mu.Unlock()
	o := patch.PatchOptions
	if patch.PatchType != types.ApplyPatchType || len(o.DryRun) != 1 || o.DryRun[0] != metav1.DryRunAll ||
		o.FieldManager != "gitops-agent" || o.Force == nil || !*o.Force || o.FieldValidation != metav1.FieldValidationStrict {
		return true, nil, fmt.Errorf("not a forced, strict server-side apply dry-run by gitops-agent: %s %+v", patch.PatchType, o)
	}
	if patch.Namespace != "" && patch.Namespace != "shop" && patch.Namespace != metav1.NamespaceDefault {
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, patch.Namespace)
	}
	if err := s.rejects[patch.Name]; err != nil {
		return true, nil, err
	}
	return true, nil, nil
}

func newFakeDryRunClients(s *fakeAPIServer) (*dynamicfake.FakeDynamicClient, meta.RESTMapper) {
	mapper := meta.NewDefaultRESTMapper(nil)
	for _, k := range []struct {
		gvk   schema.GroupVersionKind
		scope meta.RESTScope
	}{
		{schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot},
		{schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace},
		{schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, meta.RESTScopeNamespace},
		{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace},
		{schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}, meta.RESTScopeRoot},
		{schema.GroupVersionKind{Group: "cert-manager.io", Version: "v1", Kind: "Certificate"}, meta.RESTScopeNamespace},
	} {
		mapper.Add(k.gvk, k.scope)
	}
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	dyn.PrependReactor("patch", "*", s.react)
	return dyn, mapper
}

func object(apiVersion, kind, namespace, name string, fields map[string]any) render.Object {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
	for k, v := range fields {
		u.Object[k] = v
	}
	u.SetName(name)
	u.SetNamespace(namespace)
	return render.Object{Obj: u, Source: "manifests/" + name + ".yaml"}
}

func TestDryRun(t *testing.T) {
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "bad", field.ErrorList{
		field.Required(field.NewPath("spec", "template", "spec", "containers").Index(0).Child("image"), ""),
		field.Invalid(field.NewPath("spec", "replicas"), -1, "must be greater than or equal to 0"),
	})
	server := &fakeAPIServer{rejects: map[string]error{
		"bad":     invalid,
		"cert":    apierrors.NewBadRequest(`failed to create typed patch object (shop/cert; cert-manager.io/v1, Kind=Certificate): .spec.newField: field not declared in schema`),
		"webhook": apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "webhook", errors.New(`admission webhook "policy.example.com" denied the request: team label missing`)),
	}}
	dyn, mapper := newFakeDryRunClients(server)
	objs := []render.Object{
		object("v1", "Namespace", "", "new-ns", nil),
		object("v1", "ConfigMap", "new-ns", "in-new-namespace", nil), // namespace created by the render
		object("v1", "ConfigMap", "elsewhere", "in-missing-namespace", nil),
		object("v1", "ConfigMap", "", "no-namespace", nil),
		object("apps/v1", "Deployment", "shop", "bad", nil),
		object("v1", "ConfigMap", "shop", "webhook", nil),
		object("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com", map[string]any{
			"spec": map[string]any{"group": "example.com", "names": map[string]any{"kind": "Widget"}},
		}),
		object("example.com/v1", "Widget", "shop", "w", nil), // its CRD is in the render
		object("example.org/v1", "Gadget", "shop", "g", nil), // nobody defines it
		object("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "certificates.cert-manager.io", map[string]any{
			"spec": map[string]any{"group": "cert-manager.io", "names": map[string]any{"kind": "Certificate"}},
		}),
		object("cert-manager.io/v1", "Certificate", "shop", "cert", nil), // the cluster has an older CRD
	}
	got, err := DryRun(context.Background(), dyn, mapper, objs)
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{Object: objs[2].Ref(), Source: objs[2].Source, Rule: RuleServerDryRun, Severity: Deny,
			Message: `the API server rejects it: namespaces "elsewhere" not found`},
		{Object: objs[4].Ref(), Source: objs[4].Source, Rule: RuleServerDryRun, Severity: Deny,
			Field: "spec.template.spec.containers[0].image", Message: "the API server rejects it: Required value"},
		{Object: objs[4].Ref(), Source: objs[4].Source, Rule: RuleServerDryRun, Severity: Deny,
			Field: "spec.replicas", Message: "the API server rejects it: Invalid value: -1: must be greater than or equal to 0"},
		{Object: objs[5].Ref(), Source: objs[5].Source, Rule: RuleServerDryRun, Severity: Deny,
			Message: `the API server rejects it: configmaps "webhook" is forbidden: admission webhook "policy.example.com" denied the request: team label missing`},
		{Object: objs[8].Ref(), Source: objs[8].Source, Rule: RuleServerDryRun, Severity: Deny,
			Message: "the cluster does not serve Gadget at apiVersion example.org/v1; install the CRD that defines it first, or correct apiVersion and kind"},
		{Object: objs[10].Ref(), Source: objs[10].Source, Rule: RuleServerDryRun, Severity: Warn, Field: "spec.newField",
			Message: "the API server rejects it: unknown field; check its spelling and indentation against the API reference; " +
				"not blocking, because this render also applies the CRD of Certificate and the server checked against the CRD it has now"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if !strings.Contains(strings.Join(server.requests, "\n"), "configmaps default/no-namespace") {
		t.Errorf("an object without a namespace was not dry-run in default; requests:\n%s", strings.Join(server.requests, "\n"))
	}
}

func TestDryRunErrorsAreNotFindings(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{name: "unreachable", err: errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")},
		{name: "unauthorized", err: apierrors.NewUnauthorized("token expired")},
		{name: "throttled", err: apierrors.NewTooManyRequests("slow down", 1)},
		{name: "unavailable", err: apierrors.NewServiceUnavailable("etcd leader changed")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := &fakeAPIServer{rejects: map[string]error{"api": tt.err}}
			dyn, mapper := newFakeDryRunClients(server)
			_, err := DryRun(context.Background(), dyn, mapper, []render.Object{object("v1", "ConfigMap", "shop", "api", nil)})
			if err == nil || !strings.Contains(err.Error(), "ConfigMap/shop/api") {
				t.Errorf("error = %v, want one naming ConfigMap/shop/api", err)
			}
		})
	}
}

func TestDryRunFindingsFromTypedPatchErrors(t *testing.T) {
	o := object("apps/v1", "Deployment", "shop", "api", nil)
	tests := []struct {
		name string
		err  error
		want []findingKey
		msgs []string
	}{
		{
			name: "one error",
			err:  apierrors.NewBadRequest(`failed to create typed patch object (shop/api; apps/v1, Kind=Deployment): .spec.replicaz: field not declared in schema`),
			want: []findingKey{{deployAPI, RuleServerDryRun, Deny, "spec.replicaz"}},
			msgs: []string{"the API server rejects it: unknown field; check its spelling and indentation against the API reference"},
		},
		{
			name: "several errors",
			err: apierrors.NewInternalError(errors.New("failed to create typed patch object (shop/api; apps/v1, Kind=Deployment): errors:\n" +
				"  .spec.replicas: expected numeric (int or float), got string\n" +
				"  .spec.template.spec.containers: duplicate entries for key [name=\"api\"]")),
			want: []findingKey{
				{deployAPI, RuleServerDryRun, Deny, "spec.replicas"},
				{deployAPI, RuleServerDryRun, Deny, `spec.template.spec.containers[name="api"]`},
			},
			msgs: []string{
				"the API server rejects it: wrong type: expected a number",
				`the API server rejects it: duplicate entry [name="api"]: the entries of this list are identified by name, which must be unique; rename or merge the duplicates (a patch or overlay may have added the same entry twice)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dryRunFindings(o, tt.err)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, keysOf(got)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			var msgs []string
			for _, f := range got {
				msgs = append(msgs, f.Message)
			}
			if diff := cmp.Diff(tt.msgs, msgs); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDryRunWithholdsSecretValues(t *testing.T) {
	secret := object("v1", "Secret", "shop", "db", map[string]any{
		"data":       map[string]any{"password": "aHVudGVyMg=="}, // hunter2
		"stringData": map[string]any{"token": "s3cr3t-t0ken"},
	})
	tests := []struct {
		name, message string
		withheld      bool
	}{
		{name: "decoded data value", message: `Secret "db" is invalid: data[password]: Invalid value: "hunter2": too weak`, withheld: true},
		{name: "encoded data value", message: `invalid: "aHVudGVyMg=="`, withheld: true},
		{name: "stringData value", message: `stringData.token: "s3cr3t-t0ken" rejected`, withheld: true},
		{name: "no value", message: `Secret "db" is invalid: type: Unsupported value: "opaque"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dryRunFindings(secret, apierrors.NewBadRequest(tt.message))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			msg := got[0].Message
			for _, v := range []string{"hunter2", "aHVudGVyMg==", "s3cr3t-t0ken"} {
				if strings.Contains(msg, v) {
					t.Errorf("message quotes the Secret value %q: %s", v, msg)
				}
			}
			if withheld := strings.Contains(msg, "withheld"); withheld != tt.withheld {
				t.Errorf("withheld = %t, want %t: %s", withheld, tt.withheld, msg)
			}
		})
	}
}

func TestDryRunContextCancelled(t *testing.T) {
	dyn, mapper := newFakeDryRunClients(&fakeAPIServer{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := DryRun(ctx, dyn, mapper, []render.Object{object("v1", "ConfigMap", "shop", "a", nil)}); err == nil {
		t.Error("DryRun with a cancelled context succeeded")
	}
}
