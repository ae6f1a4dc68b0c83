package reconcile

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/render"
)

// TestRecordKeepsOnlyNews: a resync with the same outcome changes nothing (so costs no write);
// anything new becomes the last attempt and the newest history entry, within the limit.
func TestRecordKeepsOnlyNews(t *testing.T) {
	r := &Reconciler{opts: Options{HistoryLimit: 2}}
	es := &envState{status: &Status{Name: "dev"}}
	try := func(commit string, result Result, changes map[string]int) bool {
		return r.record(&attempt{env: es, Attempt: Attempt{Commit: commit, Result: result, Changes: changes}})
	}
	steps := []struct {
		name    string
		commit  string
		result  Result
		changes map[string]int
		want    bool
		history []string
	}{
		{"first apply", "a", ResultApplied, map[string]int{"created": 3}, true, []string{"a Applied"}},
		{"resync, nothing changed", "a", ResultApplied, map[string]int{"unchanged": 3}, false, []string{"a Applied"}},
		{"resync healed drift", "a", ResultApplied, map[string]int{"configured": 1, "unchanged": 2}, true, []string{"a Applied", "a Applied"}},
		{"new commit refused", "b", ResultInvalid, nil, true, []string{"b Invalid", "a Applied"}},
		{"same refusal again", "b", ResultInvalid, nil, false, []string{"b Invalid", "a Applied"}},
		{"history is bounded", "c", ResultApplied, map[string]int{"configured": 1}, true, []string{"c Applied", "b Invalid"}},
	}
	for _, s := range steps {
		if got := try(s.commit, s.result, s.changes); got != s.want {
			t.Errorf("%s: recorded = %v, want %v", s.name, got, s.want)
		}
		var history []string
		for _, h := range es.status.History {
			history = append(history, h.Commit+" "+string(h.Result))
		}
		if diff := cmp.Diff(s.history, history); diff != "" {
			t.Errorf("%s: history (-want +got):\n%s", s.name, diff)
		}
	}
}

func TestSummarizeAndViolationSummary(t *testing.T) {
	ref := func(name string) render.Ref {
		return render.Ref{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: name}
	}
	findings := []policy.Finding{
		{Object: ref("a"), Rule: "no-secret-env", Severity: policy.Deny, Message: "m"},
		{Object: ref("b"), Rule: "image-tag", Severity: policy.Deny, Message: "m"},
		{Object: ref("c"), Rule: "resources", Severity: policy.Deny, Message: "m"},
		{Object: ref("d"), Rule: "host-access", Severity: policy.Deny, Message: "m"},
		{Object: ref("e"), Rule: "probes", Severity: policy.Warn, Message: "m"},
		{Object: ref("f"), Rule: "probes", Severity: policy.Deny, Exempted: "why", Message: "m"},
	}
	counts, violations := summarize(findings)
	if diff := cmp.Diff(map[string]int{"deny": 4, "warn": 1, "exempted": 1}, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	want := "no-secret-env on Deployment.apps/shop/a, image-tag on Deployment.apps/shop/b, resources on Deployment.apps/shop/c, and 1 more"
	if got := violationSummary(violations); got != want {
		t.Errorf("violationSummary = %q, want %q", got, want)
	}
	if counts, violations := summarize(nil); counts != nil || violations != nil {
		t.Errorf("no findings: %v %v", counts, violations)
	}
}

func TestParseFetchRequest(t *testing.T) {
	tests := []struct {
		value, reason string
		ok            bool
	}{
		{"2026-11-22T10:00:00.123456789Z webhook:github", "webhook:github", true},
		{"webhook:github", "", false},
		{"yesterday webhook:github", "", false},
	}
	for _, tt := range tests {
		reason, ok := parseFetchRequest(tt.value)
		if reason != tt.reason || ok != tt.ok {
			t.Errorf("parseFetchRequest(%q) = %q, %v; want %q, %v", tt.value, reason, ok, tt.reason, tt.ok)
		}
	}
}
