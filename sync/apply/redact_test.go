package apply

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestRedactorHidesSecretValues(t *testing.T) {
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "db", "namespace": "shop"},
		"data":       map[string]any{"password": "aHVudGVyMg=="}, // hunter2
		"stringData": map[string]any{"token": "tok-123456"},
	}}
	leaks := []string{"aHVudGVyMg==", "hunter2", "tok-123456", "dG9rLTEyMzQ1Ng=="}
	r := newRedactor(secret)

	tests := []struct {
		name      string
		err       error
		isInvalid bool
	}{
		{name: "plain", err: errors.New(`cannot use "hunter2" or tok-123456`)},
		{name: "wrapped status", isInvalid: true, err: fmt.Errorf("dry run: %w", apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "db", field.ErrorList{
			field.Invalid(field.NewPath("data", "password"), "aHVudGVyMg==", "bad"),
			field.Invalid(field.NewPath("stringData", "token"), "tok-123456", "bad"),
		}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.error(tt.err)
			text := got.Error()
			var status apierrors.APIStatus
			if errors.As(got, &status) {
				text += " " + fmt.Sprint(status.Status())
			}
			for _, leak := range leaks {
				if strings.Contains(text, leak) {
					t.Errorf("redacted error %q still contains %q", text, leak)
				}
			}
			if !strings.Contains(text, redacted) {
				t.Errorf("redacted error %q has no %s marker", text, redacted)
			}
			if apierrors.IsInvalid(got) != tt.isInvalid {
				t.Errorf("IsInvalid = %v, want %v", apierrors.IsInvalid(got), tt.isInvalid)
			}
		})
	}
}

func TestRedactorLeavesOtherKindsAlone(t *testing.T) {
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "settings"},
		"data":     map[string]any{"greeting": "hello"},
	}}
	err := errors.New("greeting hello is invalid")
	if got := newRedactor(cm).error(err); got != err {
		t.Errorf("error of a ConfigMap changed to %q", got)
	}
}
