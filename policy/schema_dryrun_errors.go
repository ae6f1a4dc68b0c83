package policy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"

	"github.com/gitops-agent/gitops-agent/render"
)

// missingNamespace tells whether err is the server's answer for a namespace that does not exist.
func missingNamespace(err error, ns string) bool {
	var status apierrors.APIStatus
	if ns == "" || !apierrors.IsNotFound(err) || !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	return d != nil && d.Kind == "namespaces" && d.Name == ns
}

// dryRunFindings turns the server's rejection of o into findings; an error that is not the
// object's fault is returned as an error.
func dryRunFindings(o render.Object, err error) ([]Finding, error) {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return nil, fmt.Errorf("%s: server-side dry-run: %w", o.Ref(), err)
	}
	switch {
	case apierrors.IsUnauthorized(err), apierrors.IsTooManyRequests(err), apierrors.IsServerTimeout(err),
		apierrors.IsTimeout(err), apierrors.IsServiceUnavailable(err):
		return nil, fmt.Errorf("%s: server-side dry-run: %w", o.Ref(), err)
	}
	s := status.Status()
	var findings []Finding
	if s.Details != nil {
		for _, cause := range s.Details.Causes {
			if cause.Field != "" {
				findings = append(findings, dryRunFinding(o, cause.Field, "the API server rejects it: "+cause.Message))
			} else {
				findings = append(findings, messageFindings(o, cause.Message)...)
			}
		}
	}
	if len(findings) > 0 {
		return findings, nil
	}
	msg := s.Message
	if msg == "" {
		msg = string(s.Reason)
	}
	return messageFindings(o, msg), nil
}

// messageFindings turns an error message without a field into findings: one per schema error
// when it holds the schema errors of a server-side apply, else one for the whole message.
func messageFindings(o render.Object, msg string) []Finding {
	errs := typedPatchErrors(msg)
	if len(errs) == 0 {
		return []Finding{dryRunFinding(o, "", "the API server rejects it: "+msg)}
	}
	findings := make([]Finding, 0, len(errs))
	for _, e := range errs {
		field, msg := describeSMDError(e, "")
		findings = append(findings, dryRunFinding(o, joinPath("", field), "the API server rejects it: "+msg))
	}
	return findings
}

func dryRunFinding(o render.Object, field, msg string) Finding {
	f := Finding{Source: o.Source, Rule: RuleServerDryRun, Severity: Deny, Field: field, Message: msg}
	if o.Obj != nil {
		f.Object = o.Ref()
		msg = withholdSecretValues(o.Obj, msg)
	}
	f.Message = msg
	return f
}

// typedPatchMessage finds the schema errors of a server-side apply in a status message; the
// server passes them on as text.
var typedPatchMessage = regexp.MustCompile(`(?s)failed to create typed patch object \([^)]*\): (.*)$`)

// typedPatchErrors parses the structured-merge-diff errors a server-side apply reports as text:
// ".spec.x: msg", or "errors:" followed by one indented error per line.
func typedPatchErrors(message string) typed.ValidationErrors {
	m := typedPatchMessage.FindStringSubmatch(message)
	if m == nil {
		return nil
	}
	var errs typed.ValidationErrors
	for _, line := range strings.Split(m[1], "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line == "errors:" {
			continue
		}
		path, msg, ok := strings.Cut(line, ": ")
		if !ok || !strings.HasPrefix(path, ".") {
			path, msg = "", line
		}
		errs = append(errs, typed.ValidationError{Path: path, ErrorMessage: msg})
	}
	return errs
}

// withholdSecretValues returns msg, or a generic message when msg quotes a value of the
// Secret u: the server's messages sometimes quote the values they reject.
func withholdSecretValues(u *unstructured.Unstructured, msg string) string {
	if u.GroupVersionKind().GroupKind() != (schema.GroupKind{Kind: "Secret"}) {
		return msg
	}
	for _, field := range []string{"data", "stringData"} {
		values, _ := u.Object[field].(map[string]any)
		for _, v := range values {
			forms := []string{fmt.Sprint(v)}
			if s, ok := v.(string); ok && field == "data" {
				if decoded, err := base64.StdEncoding.DecodeString(s); err == nil {
					forms = append(forms, string(decoded))
				}
			}
			for _, f := range forms {
				if f != "" && strings.Contains(msg, f) {
					return "the API server rejects it; its message is withheld because it quotes a value of this Secret: " +
						"check the Secret's data and stringData, or run the apply by hand to see the message"
				}
			}
		}
	}
	return msg
}
