package policy

import (
	"cmp"
	"slices"
)

// Report is the outcome of validating one or more environments: what `gitops-agent check`
// prints and what the agent records for a commit.
type Report struct {
	Environments []EnvironmentResult `json:"environments"`
	Findings     []Finding           `json:"findings"`
}

// EnvironmentResult says whether an environment could be rendered and validated at all.
type EnvironmentResult struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Objects int    `json:"objects"`
	// Error is set when the environment could not be rendered or validated; its findings are
	// then incomplete and the commit must not be applied.
	Error string `json:"error,omitempty"`
}

// Summary counts a report's findings.
type Summary struct {
	Environments int `json:"environments"`
	Objects      int `json:"objects"`
	Errors       int `json:"errors"` // environments that failed to render or validate
	Deny         int `json:"deny"`
	Warn         int `json:"warn"`
	Exempted     int `json:"exempted"`
}

// Summary counts the report's environments, objects and findings.
func (r *Report) Summary() Summary {
	s := Summary{Environments: len(r.Environments)}
	for _, e := range r.Environments {
		s.Objects += e.Objects
		if e.Error != "" {
			s.Errors++
		}
	}
	for _, f := range r.Findings {
		switch {
		case f.Exempted != "":
			s.Exempted++
		case f.Severity == Deny:
			s.Deny++
		default:
			s.Warn++
		}
	}
	return s
}

// Blocks reports whether a finding stops a commit from being applied.
func (f Finding) Blocks() bool { return f.Severity == Deny && f.Exempted == "" }

// Sort orders findings the way people read them: by environment, file, object, then rule, so
// output is stable from run to run.
func (r *Report) Sort() {
	slices.SortFunc(r.Environments, func(a, b EnvironmentResult) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Env, b.Env),
			cmp.Compare(a.Source, b.Source),
			cmp.Compare(a.Object.String(), b.Object.String()),
			cmp.Compare(severityRank(a), severityRank(b)),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Field, b.Field),
		)
	})
}

func severityRank(f Finding) int {
	switch {
	case f.Blocks():
		return 0
	case f.Exempted == "":
		return 1
	default:
		return 2
	}
}
