package apply

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-agent/gitops-agent/render"
)

// ImmutableFieldError reports a change the API server refuses because it touches fields that
// cannot change after creation (a Deployment's spec.selector, a Job's spec.template, a
// Service's spec.clusterIP). Callers branch on it with errors.As.
type ImmutableFieldError struct {
	Ref render.Ref
	// Fields are the refused field paths as the server names them, e.g. "spec.selector".
	Fields []string
	// Reasons holds the server's reason for each field, e.g. "field is immutable".
	Reasons []string
	// Err is the server's answer, which quotes the refused values in full.
	Err error
}

func (e *ImmutableFieldError) Error() string {
	fields := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		fields[i] = f
		if i < len(e.Reasons) && e.Reasons[i] != "" {
			fields[i] += " (" + e.Reasons[i] + ")"
		}
	}
	return fmt.Sprintf("%s: cannot change %s: delete the object, or set the annotation %s: \"true\" on it to let gitops-agent delete and recreate it",
		e.Ref, strings.Join(fields, ", "), AnnotationRecreate)
}

func (e *ImmutableFieldError) Unwrap() error { return e.Err }

// immutableFields returns the fields err refuses to change because they are immutable, with
// the server's reason for each, or nil when err is anything else. The API server reports these
// as an Invalid status whose causes say "field is immutable" (or, for a Service's cluster IPs,
// "may not change once set").
func immutableFields(err error) (fields, why []string) {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return nil, nil
	}
	st := status.Status()
	if st.Reason != metav1.StatusReasonInvalid || st.Code != http.StatusUnprocessableEntity || st.Details == nil {
		return nil, nil
	}
	for _, c := range st.Details.Causes {
		if c.Field == "" || slices.Contains(fields, c.Field) ||
			!(strings.Contains(c.Message, "immutable") || strings.Contains(c.Message, "may not change once set")) {
			continue
		}
		fields = append(fields, c.Field)
		why = append(why, reasonOf(c.Message))
	}
	return fields, why
}

// reasonOf returns the reason of a cause message without the value it quotes: causes read
// "Invalid value: <value>: field is immutable", and some add a multi-line diff.
func reasonOf(msg string) string {
	msg, _, _ = strings.Cut(msg, "\n")
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return strings.TrimSpace(msg)
}
