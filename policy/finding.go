package policy

import "github.com/gitops-agent/gitops-agent/render"

// Severity says whether a finding blocks a commit.
type Severity string

const (
	// Deny findings block the commit: it is never applied.
	Deny Severity = "deny"
	// Warn findings are reported but do not block.
	Warn Severity = "warn"
)

// Finding is one problem found in one rendered object.
type Finding struct {
	Env      string     `json:"env,omitempty"`
	Object   render.Ref `json:"object"`
	Source   string     `json:"source,omitempty"` // repository-relative file that declares the object
	Rule     string     `json:"rule"`             // rule id, e.g. "no-secret-env" or "schema"
	Severity Severity   `json:"severity"`
	// Field is the path of the offending field when known, e.g.
	// "spec.template.spec.containers[name=api].env[name=DB_PASSWORD]".
	Field   string `json:"field,omitempty"`
	Message string `json:"message"` // what is wrong and how to fix it
	// Exempted holds the reason given by an exemption annotation; an exempted finding is listed
	// but never blocks.
	Exempted string `json:"exempted,omitempty"`
}
