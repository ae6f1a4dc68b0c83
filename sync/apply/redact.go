package apply

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// redacted replaces a Secret value in error messages.
const redacted = "[redacted]"

// redactor removes a Secret's values from error messages. The API server quotes invalid values
// in its errors, and a change set's errors end up in logs, events and pull-request comments.
type redactor struct {
	// values are the strings to hide, longest first so that a value containing another is
	// replaced whole.
	values []string
}

// newRedactor returns the redactor for obj: one that hides the values of data and stringData,
// both encoded and decoded, when obj is a Secret, and a no-op otherwise.
func newRedactor(obj *unstructured.Unstructured) redactor {
	if !isSecret(obj.GroupVersionKind().GroupKind()) {
		return redactor{}
	}
	var values []string
	add := func(v string) {
		if v != "" && !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	data, _, _ := unstructured.NestedMap(obj.Object, "data")
	for _, v := range data {
		s, ok := v.(string)
		if !ok {
			continue
		}
		add(s)
		if raw, err := base64.StdEncoding.DecodeString(s); err == nil {
			add(string(raw))
		}
	}
	stringData, _, _ := unstructured.NestedMap(obj.Object, "stringData")
	for _, v := range stringData {
		if s, ok := v.(string); ok {
			add(s)
			add(base64.StdEncoding.EncodeToString([]byte(s)))
		}
	}
	slices.SortFunc(values, func(a, b string) int { return len(b) - len(a) })
	return redactor{values: values}
}

func (r redactor) string(s string) string {
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return s
}

// error returns err with the values hidden. The result keeps the API status (reason, code and
// causes, redacted) so that apierrors.IsConflict and friends still work, but it does not wrap
// err: unwrapping must not lead back to the values.
func (r redactor) error(err error) error {
	if err == nil || len(r.values) == 0 {
		return err
	}
	msg := err.Error()
	clean := r.string(msg)
	if clean == msg {
		return err
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return errors.New(clean)
	}
	original := status.Status()
	st := *original.DeepCopy()
	st.Message = r.string(st.Message)
	if st.Details != nil {
		for i := range st.Details.Causes {
			st.Details.Causes[i].Message = r.string(st.Details.Causes[i].Message)
			st.Details.Causes[i].Field = r.string(st.Details.Causes[i].Field)
		}
	}
	return &redactedError{msg: clean, status: &apierrors.StatusError{ErrStatus: st}}
}

// redactedError is an error whose message had Secret values removed.
type redactedError struct {
	msg    string
	status *apierrors.StatusError
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error { return e.status }
