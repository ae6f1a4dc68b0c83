// Package monitoring_test checks the monitoring component: it renders as an overlay would use
// it, passes `gitops-agent check`, and its alerts and dashboard use only metrics and labels the
// agent exports.
package monitoring_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/render"
)

const (
	repoRoot      = "../../.."
	namespace     = "gitops-agent"
	dashboardName = "gitops-agent-dashboard"
	dashboardKey  = "gitops-agent.json"
	runbookPrefix = "https://github.com/gitops-agent/gitops-agent#"
)

// metric is what the alerts and the dashboard may rely on about one metric.
type metric struct {
	histogram bool
	labels    []string
	// values lists, per label, the only values the agent sets.
	values map[string][]string
	// source is the file that registers the metric; empty for metrics announced but not in
	// the repository yet.
	source string
}

// knownMetrics are the agent's metrics: those registered today (README.md, Metrics) and those
// announced for drift detection and promotion.
func knownMetrics() map[string]metric {
	const (
		reconcile = "sync/reconcile/metrics.go"
		fetch     = "sync/source/metrics.go"
	)
	return map[string]metric{
		"gitops_agent_syncs_total": {labels: []string{"env", "result"}, source: reconcile,
			values: map[string][]string{"result": {"Applied", "Failed", "RenderFailed", "Invalid", "Pending"}}},
		"gitops_agent_reconcile_duration_seconds":     {histogram: true, labels: []string{"env"}, source: reconcile},
		"gitops_agent_commit_to_applied_seconds":      {histogram: true, labels: []string{"trigger"}, source: reconcile},
		"gitops_agent_managed_objects":                {labels: []string{"env"}, source: reconcile},
		"gitops_agent_policy_findings":                {labels: []string{"env", "rule", "severity"}, source: reconcile},
		"gitops_agent_last_applied_timestamp_seconds": {labels: []string{"env"}, source: reconcile},
		"gitops_agent_git_fetch_duration_seconds": {histogram: true, labels: []string{"result"}, source: fetch,
			values: map[string][]string{"result": {"unchanged", "changed", "error"}}},
		"gitops_agent_git_fetch_errors_total":                   {source: fetch},
		"gitops_agent_git_last_fetch_success_timestamp_seconds": {source: fetch},
		"gitops_agent_webhook_requests_total":                   {labels: []string{"provider", "code"}, source: "sync/webhook/handler.go"},
		"gitops_agent_drift_objects":                            {labels: []string{"env", "kind"}},
		"gitops_agent_drift_events_total":                       {labels: []string{"env", "kind", "type"}},
		"gitops_agent_drift_detection_seconds":                  {histogram: true, labels: []string{"env"}},
		"gitops_agent_drift_heals_total":                        {labels: []string{"env", "result"}},
		"gitops_agent_drift_flapping":                           {labels: []string{"env", "kind", "namespace", "name", "manager"}},
		"gitops_agent_drift_watched_objects":                    {labels: []string{"env"}},
		"gitops_agent_promotions_total":                         {labels: []string{"env", "result"}},
		"gitops_agent_promotion_duration_seconds":               {histogram: true, labels: []string{"env"}},
		"gitops_agent_promotion_live_info":                      {labels: []string{"env", "color", "commit"}},
		"gitops_agent_promotion_phase":                          {labels: []string{"env", "phase"}},
	}
}

// targetLabels are the labels Prometheus adds to every series scraped through the
// ServiceMonitor; exported_namespace holds a metric's own namespace label, which clashes.
func targetLabels() []string {
	return []string{"instance", "pod", "job", "namespace", "service", "endpoint", "container", "exported_namespace"}
}

// series resolves a name used in a query (a histogram's _bucket, _sum or _count included) to
// its metric.
func series(name string) (metric, bool) {
	known := knownMetrics()
	if m, ok := known[name]; ok {
		return m, !m.histogram
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if m, ok := known[strings.TrimSuffix(name, suffix)]; ok && m.histogram && strings.HasSuffix(name, suffix) {
			if suffix == "_bucket" {
				m.labels = append(slices.Clone(m.labels), "le")
			}
			return m, true
		}
	}
	return metric{}, false
}

func TestMetricsAreRegistered(t *testing.T) {
	for name, m := range knownMetrics() {
		if m.source == "" {
			continue
		}
		src, err := os.ReadFile(filepath.Join(repoRoot, m.source))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), `"`+name+`"`) {
			t.Errorf("%s does not register %s: update knownMetrics and the alerts and dashboard that use it", m.source, name)
		}
	}
}

// renderComponent renders the component the way an overlay uses it: beside the agent, through
// the agent's own renderer, as `gitops-agent check --env ./overlay` does. A kustomization
// cannot live inside a directory it uses, so the overlay is assembled in a temporary
// repository.
func renderComponent(t *testing.T) []render.Object {
	t.Helper()
	root := t.TempDir()
	for dst, src := range map[string]string{"monitoring": ".", "agent": filepath.Join(repoRoot, "deploy", "agent")} {
		if err := os.CopyFS(filepath.Join(root, dst), os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	overlay := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../agent\ncomponents:\n- ../monitoring\n"
	if err := os.MkdirAll(filepath.Join(root, "overlay"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "overlay", "kustomization.yaml"), []byte(overlay), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := render.New(render.DefaultOptions()).RenderDir(t.Context(), root, "overlay")
	if err != nil {
		t.Fatalf("render the component: %v", err)
	}
	return res.Objects
}

func theObject(t *testing.T, objs []render.Object, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.Obj.GetKind() == kind && o.Obj.GetNamespace() == namespace && o.Obj.GetName() == name {
			return o.Obj
		}
	}
	t.Fatalf("the render has no %s %s/%s", kind, namespace, name)
	return nil
}

func TestCheckPasses(t *testing.T) {
	ctx := t.Context()
	schema, err := policy.NewSchemaValidator(ctx, policy.SchemaOptions{UnknownKind: policy.Deny})
	if err != nil {
		t.Fatal(err)
	}
	rego, err := policy.LoadRegoDir(ctx, filepath.Join(repoRoot, "policies"), policy.DefaultRegoOptions())
	if err != nil {
		t.Fatal(err)
	}
	findings, err := policy.NewValidator(schema, func() *policy.RegoSet { return rego }).Validate(ctx, "monitoring", renderComponent(t))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		s := fmt.Sprintf("%s %s", f.Rule, f.Object)
		if f.Exempted != "" {
			s += " (exempted)"
		} else {
			t.Logf("%s %s %s: %s", f.Severity, f.Object, f.Field, f.Message)
		}
		got = append(got, s)
	}
	// The PrometheusRule's CRD comes with the Prometheus Operator, not with the render.
	want := []string{"schema-unknown-kind PrometheusRule.monitoring.coreos.com/gitops-agent/gitops-agent (exempted)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// rule is one alerting rule of a PrometheusRule.
type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func alertRules(t *testing.T, objs []render.Object) []rule {
	t.Helper()
	var spec struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	raw, _, _ := unstructured.NestedMap(theObject(t, objs, "PrometheusRule", "gitops-agent").Object, "spec")
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &spec); err != nil {
		t.Fatalf("PrometheusRule spec: %v", err)
	}
	var rules []rule
	for _, g := range spec.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// expandAlertText renders an annotation as Prometheus does: Go templates with $labels and
// $value, and Prometheus's functions (only humanize is used).
func expandAlertText(text string, labels map[string]string, value float64) (string, error) {
	const defs = "{{$labels := .Labels}}{{$value := .Value}}"
	tmpl, err := template.New("annotation").Option("missingkey=zero").
		Funcs(template.FuncMap{"humanize": func(v float64) string { return fmt.Sprintf("%.4g", v) }}).
		Parse(defs + text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = tmpl.Execute(&b, struct {
		Labels map[string]string
		Value  float64
	}{labels, value})
	return b.String(), err
}

func TestAlerts(t *testing.T) {
	rules := alertRules(t, renderComponent(t))
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := headingAnchors(string(readme))
	// labels are those of a firing alert (the Prometheus Operator's target labels included).
	labels := map[string]string{
		"env": "prod", "kind": "Deployment", "name": "api", "manager": "kubectl-edit", "exported_namespace": "shop",
		"namespace": namespace, "provider": "github", "code": "401", "job": "gitops-agent",
	}
	// every alert's description says what to run; those about one environment name it.
	tests := []struct {
		alert        string
		wantExpr     string // a part of the expression
		wantForAtMin time.Duration
		wantText     []string // in the expanded summary or description
	}{
		{"GitOpsDriftPersistent", "gitops_agent_drift_objects", 10 * time.Minute,
			[]string{"environment prod", "gitops-agent diff --env prod", "gitops-agent status prod"}},
		{"GitOpsSyncFailing", `gitops_agent_syncs_total{result="Applied"}`, 0,
			[]string{"environment prod", "gitops-agent status prod", "gitops-agent diff --env prod"}},
		{"GitOpsFetchStale", "gitops_agent_git_last_fetch_success_timestamp_seconds", 0,
			[]string{"gitops-agent status", "kubectl -n gitops-agent logs"}},
		{"GitOpsWebhookSignatureFailures", `gitops_agent_webhook_requests_total{code="401"}`, 0,
			[]string{"github webhook", "webhooks.github.secretFile"}},
		{"GitOpsDriftHealStopped", "gitops_agent_drift_flapping) == 1", 0,
			[]string{"Deployment shop/api of environment prod", "field manager kubectl-edit", "gitops-agent diff --env prod", "gitops-agent status prod"}},
		{"GitOpsPromotionAborted", `gitops_agent_promotions_total{result="aborted"}`, 0,
			[]string{"environment prod", "gitops-agent status prod", "gitops-agent diff --env prod"}},
	}
	var want, got []string
	for _, tt := range tests {
		want = append(want, tt.alert)
	}
	byName := map[string]rule{}
	for _, r := range rules {
		got = append(got, r.Alert)
		byName[r.Alert] = r
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}

	for _, tt := range tests {
		t.Run(tt.alert, func(t *testing.T) {
			r, ok := byName[tt.alert]
			if !ok {
				t.Fatalf("no alert %s", tt.alert)
			}
			if !strings.Contains(r.Expr, tt.wantExpr) {
				t.Errorf("expr %q lacks %q", r.Expr, tt.wantExpr)
			}
			if r.For != "" {
				d, err := time.ParseDuration(r.For)
				if err != nil {
					t.Errorf("for: %v", err)
				} else if d < tt.wantForAtMin {
					t.Errorf("for: %s, want at least %s", d, tt.wantForAtMin)
				}
			} else if tt.wantForAtMin > 0 {
				t.Errorf("for: unset, want at least %s", tt.wantForAtMin)
			}
			if sev := r.Labels["severity"]; sev != "warning" && sev != "critical" {
				t.Errorf("severity label %q, want warning or critical", sev)
			}
			var text []string
			for _, key := range []string{"summary", "description"} {
				s, err := expandAlertText(r.Annotations[key], labels, 3)
				if err != nil {
					t.Errorf("annotation %s: %v", key, err)
				}
				if strings.TrimSpace(s) == "" {
					t.Errorf("annotation %s is empty", key)
				}
				text = append(text, s)
			}
			all := strings.Join(text, "\n")
			for _, w := range tt.wantText {
				if !strings.Contains(all, w) {
					t.Errorf("summary and description lack %q:\n%s", w, all)
				}
			}
			anchor, ok := strings.CutPrefix(r.Annotations["runbook_url"], runbookPrefix)
			if !ok || !anchors[anchor] {
				t.Errorf("runbook_url %q: want %s<anchor of a README.md heading>", r.Annotations["runbook_url"], runbookPrefix)
			}
		})
	}
}

// headingAnchors returns the anchors GitHub gives README headings.
func headingAnchors(md string) map[string]bool {
	anchors := map[string]bool{}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	for line := range strings.Lines(md) {
		heading, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !ok || !strings.HasPrefix(line, "#") {
			continue
		}
		slug := drop.ReplaceAllString(strings.ToLower(strings.TrimSpace(heading)), "")
		anchors[strings.ReplaceAll(slug, " ", "-")] = true
	}
	return anchors
}

// dashboard is the part of Grafana's dashboard model the test checks.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos *struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // of a collapsed row
}

func loadDashboard(t *testing.T, objs []render.Object) dashboard {
	t.Helper()
	cm := theObject(t, objs, "ConfigMap", dashboardName)
	if got := cm.GetLabels()["grafana_dashboard"]; got != "1" {
		t.Errorf("ConfigMap %s: label grafana_dashboard=%q, want \"1\" for the Grafana sidecar", dashboardName, got)
	}
	raw, _, _ := unstructured.NestedString(cm.Object, "data", dashboardKey)
	var d dashboard
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatalf("ConfigMap %s key %s is not valid JSON: %v", dashboardName, dashboardKey, err)
	}
	return d
}

// allPanels flattens rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

func TestDashboard(t *testing.T) {
	d := loadDashboard(t, renderComponent(t))
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard uid %q, title %q: want both", d.UID, d.Title)
	}
	variables := map[string]string{}
	for _, v := range d.Templating.List {
		variables[v.Name] = v.Type
		if v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != "${datasource}") {
			t.Errorf("variable %s: datasource %+v, want the ${datasource} variable", v.Name, v.Datasource)
		}
	}
	if diff := cmp.Diff(map[string]string{"datasource": "datasource", "env": "query"}, variables); diff != "" {
		t.Errorf("template variables (-want +got):\n%s", diff)
	}

	used := map[string]bool{}
	ids := map[int]string{}
	for _, p := range allPanels(d.Panels) {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.GridPos == nil || p.GridPos.W < 1 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H < 1 {
			t.Errorf("panel %q: gridPos %+v, want one within the 24 columns", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v, want the prometheus ${datasource} variable", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no targets", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" || tg.RefID == "" {
				t.Errorf("panel %q: target %+v, want an expr and a refId", p.Title, tg)
			}
			for _, name := range metricName.FindAllString(tg.Expr, -1) {
				used[name] = true
				if m, ok := series(name); ok && slices.Contains(m.labels, "env") && !strings.Contains(tg.Expr, `env=~"$env"`) {
					t.Errorf("panel %q: %s has an env label but the query does not filter by the env variable: %s", p.Title, name, tg.Expr)
				}
			}
		}
	}
	for _, name := range []string{
		"gitops_agent_drift_objects", "gitops_agent_drift_events_total", "gitops_agent_drift_detection_seconds_bucket",
		"gitops_agent_drift_heals_total", "gitops_agent_drift_flapping", "gitops_agent_syncs_total",
		"gitops_agent_commit_to_applied_seconds_bucket", "gitops_agent_webhook_requests_total",
		"gitops_agent_git_fetch_duration_seconds_bucket", "gitops_agent_git_fetch_errors_total",
		"gitops_agent_promotion_live_info", "gitops_agent_promotions_total",
	} {
		if !used[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
}

var (
	metricName = regexp.MustCompile(`gitops_agent_[a-z_]+`)
	selector   = regexp.MustCompile(`(gitops_agent_[a-z_]+)\s*\{([^}]*)\}`)
	matcher    = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"\s*$`)
	grouping   = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
)

// TestQueries checks every PromQL query of the alerts and the dashboard without a PromQL
// parser (Prometheus is not a dependency): brackets balance, every metric is one the agent
// exports, and every label matched or grouped by is one that metric or the scrape has.
func TestQueries(t *testing.T) {
	objs := renderComponent(t)
	type query struct{ where, expr string }
	var queries []query
	for _, r := range alertRules(t, objs) {
		queries = append(queries, query{"alert " + r.Alert, r.Expr})
	}
	d := loadDashboard(t, objs)
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			queries = append(queries, query{fmt.Sprintf("panel %q %s", p.Title, tg.RefID), tg.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			var q struct{ Query string }
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Fatalf("variable %s: query: %v", v.Name, err)
			}
			queries = append(queries, query{"variable " + v.Name, q.Query})
		}
	}

	for _, q := range queries {
		t.Run(q.where, func(t *testing.T) {
			if err := balanced(q.expr); err != nil {
				t.Errorf("%v in %s", err, q.expr)
			}
			names := metricName.FindAllString(q.expr, -1)
			if len(names) == 0 {
				t.Errorf("no gitops_agent_ metric in %s", q.expr)
			}
			groupable := targetLabels()
			for _, name := range names {
				m, ok := series(name)
				if !ok {
					t.Errorf("%s is not a metric the agent exports (or a histogram's _bucket, _sum, _count): add it to knownMetrics if it is", name)
					continue
				}
				groupable = append(groupable, m.labels...)
			}
			for _, sel := range selector.FindAllStringSubmatch(q.expr, -1) {
				m, _ := series(sel[1])
				for _, part := range strings.Split(sel[2], ",") {
					checkMatcher(t, sel[1], m, part)
				}
			}
			for _, g := range grouping.FindAllStringSubmatch(q.expr, -1) {
				for _, label := range strings.Split(g[1], ",") {
					if label = strings.TrimSpace(label); label != "" && !slices.Contains(groupable, label) {
						t.Errorf("grouping by %q, which no metric of the query has: %s", label, q.expr)
					}
				}
			}
		})
	}
}

func checkMatcher(t *testing.T, name string, m metric, part string) {
	t.Helper()
	if strings.TrimSpace(part) == "" {
		return
	}
	mm := matcher.FindStringSubmatch(part)
	if mm == nil {
		t.Errorf("%s: cannot read matcher %q", name, part)
		return
	}
	label, op, value := mm[1], mm[2], mm[3]
	if !slices.Contains(m.labels, label) && !slices.Contains(targetLabels(), label) {
		t.Errorf("%s has no label %q (it has %s)", name, label, strings.Join(m.labels, ", "))
		return
	}
	allowed, enumerated := m.values[label]
	if !enumerated || strings.Contains(value, "$") {
		return
	}
	values := []string{value}
	if op == "=~" || op == "!~" {
		values = strings.Split(value, "|")
	}
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			t.Errorf("%s{%s%s%q}: the agent sets %s only to %s", name, label, op, value, label, strings.Join(allowed, ", "))
		}
	}
}

// balanced reports the first bracket or quote of expr that is not closed in order.
func balanced(expr string) error {
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	var stack []rune
	inQuote := false
	for i, r := range expr {
		switch {
		case r == '"':
			inQuote = !inQuote
		case inQuote:
		case r == '(' || r == '[' || r == '{':
			stack = append(stack, r)
		case pairs[r] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return fmt.Errorf("unbalanced %q at offset %d", r, i)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if inQuote {
		return fmt.Errorf("unclosed quote")
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed %q", stack[len(stack)-1])
	}
	return nil
}
