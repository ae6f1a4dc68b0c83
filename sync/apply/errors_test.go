package apply

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gitops-agent/gitops-agent/render"
)

func TestImmutableFields(t *testing.T) {
	deployments := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	tests := []struct {
		name        string
		err         error
		fields, why []string
	}{
		{
			name: "selector",
			err: apierrors.NewInvalid(deployments, "api", field.ErrorList{
				field.Invalid(field.NewPath("spec", "selector"), map[string]string{"app": "x: y"}, "field is immutable"),
			}),
			fields: []string{"spec.selector"}, why: []string{"field is immutable"},
		},
		{
			name: "cluster IP and a diff after the reason",
			err: apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, "db", field.ErrorList{
				field.Invalid(field.NewPath("spec", "clusterIPs").Index(0), []string{"10.0.0.2"}, "may not change once set"),
				field.Forbidden(field.NewPath("spec"), "spec is immutable after creation except resources.requests\n  diff: {a: b}"),
			}),
			fields: []string{"spec.clusterIPs[0]", "spec"},
			why:    []string{"may not change once set", "spec is immutable after creation except resources.requests"},
		},
		{
			name: "invalid but mutable",
			err: apierrors.NewInvalid(deployments, "api", field.ErrorList{
				field.Invalid(field.NewPath("spec", "replicas"), -1, "must be greater than or equal to 0"),
			}),
		},
		{name: "conflict", err: apierrors.NewConflict(schema.GroupResource{Resource: "deployments"}, "api", errors.New("immutable"))},
		{name: "not an API error", err: errors.New("field is immutable")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, why := immutableFields(tt.err)
			if diff := cmp.Diff(tt.fields, fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.why, why); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImmutableFieldErrorMessage(t *testing.T) {
	server := errors.New("Deployment.apps \"api\" is invalid: spec.selector: Invalid value: {...}: field is immutable")
	err := error(&ImmutableFieldError{
		Ref:     render.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"},
		Fields:  []string{"spec.selector"},
		Reasons: []string{"field is immutable"},
		Err:     server,
	})
	want := `Deployment.apps/shop/api: cannot change spec.selector (field is immutable): delete the object, or set the annotation gitops-agent.io/recreate: "true" on it to let gitops-agent delete and recreate it`
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !errors.Is(err, server) {
		t.Error("the server's error is not wrapped")
	}
}
