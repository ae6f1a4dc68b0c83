package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/gitops-agent/gitops-agent/render"
)

// fixture reads testdata/rego/objects/<name>.yaml as a rendered object.
func fixture(t *testing.T, name string) render.Object {
	t.Helper()
	source := filepath.Join("testdata", "rego", "objects", name+".yaml")
	data, err := os.ReadFile(source)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatalf("%s: %v", source, err)
	}
	return render.Object{Obj: &unstructured.Unstructured{Object: obj}, Source: source}
}

func loadTestRego(t *testing.T, dir string, opts RegoOptions) *RegoSet {
	t.Helper()
	set, err := LoadRegoDir(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// brief is the part of a finding that the table tests compare; messages are checked apart.
type brief struct {
	Object   string
	Rule     string
	Severity Severity
	Field    string
	Exempted string
}

func briefs(found []Finding) []brief {
	out := make([]brief, 0, len(found))
	for _, f := range found {
		out = append(out, brief{f.Object.Kind + "/" + f.Object.Name, f.Rule, f.Severity, f.Field, f.Exempted})
	}
	return out
}

// TestBuiltinPolicies runs the repository's policies through the Go engine, rule by rule,
// object by object, each environment being the listed fixtures.
func TestBuiltinPolicies(t *testing.T) {
	set := loadTestRego(t, "../policies", DefaultRegoOptions())
	tests := []struct {
		name     string
		fixtures []string // the environment; findings of all its objects are compared
		want     []brief
	}{
		{
			name:     "compliant workload and Service",
			fixtures: []string{"deployment-compliant", "service-matching", "configmap-plain"},
		},
		{
			name:     "every workload rule",
			fixtures: []string{"deployment-violations"},
			want: []brief{
				{"Deployment/legacy", "host-access", Deny, "spec.template.spec.hostNetwork", ""},
				{"Deployment/legacy", "host-access", Deny, "spec.template.spec.volumes[name=docker].hostPath", ""},
				{"Deployment/legacy", "image-tag", Deny, "spec.template.spec.containers[name=app].image", ""},
				{"Deployment/legacy", "no-secret-env", Deny, "spec.template.spec.containers[name=app].env[name=DB_PASSWORD]", ""},
				{"Deployment/legacy", "resources", Deny, "spec.template.spec.containers[name=app].resources", ""},
				{"Deployment/legacy", "security-context", Deny, "spec.template.spec.containers[name=app].securityContext.privileged", ""},
				{"Deployment/legacy", "probes", Warn, "spec.template.spec.containers[name=app].livenessProbe", ""},
				{"Deployment/legacy", "probes", Warn, "spec.template.spec.containers[name=app].readinessProbe", ""},
				{"Deployment/legacy", "secret-env-ref", Warn, "spec.template.spec.containers[name=app].env[name=API_TOKEN]", ""},
				{"Deployment/legacy", "security-context", Warn, "spec.template.spec.containers[name=app].securityContext.runAsNonRoot", ""},
			},
		},
		{
			name:     "bare Pod",
			fixtures: []string{"pod-bare"},
			want:     []brief{{"Pod/debug", "no-bare-pod", Deny, "kind", ""}},
		},
		{
			name:     "CronJob init container",
			fixtures: []string{"cronjob-init-container"},
			want: []brief{
				{"CronJob/report", "image-tag", Deny, "spec.jobTemplate.spec.template.spec.initContainers[name=fetch].image", ""},
			},
		},
		{
			name:     "credentials in a ConfigMap",
			fixtures: []string{"configmap-credentials"},
			want: []brief{
				{"ConfigMap/settings", "secret-in-configmap", Deny, "data[SMTP_PASSWORD]", ""},
				{"ConfigMap/settings", "secret-in-configmap", Deny, "data[application.properties]", ""},
			},
		},
		{
			name:     "Service selecting nothing",
			fixtures: []string{"service-orphan", "deployment-compliant"},
			want:     []brief{{"Service/web", "service-selects-workload", Warn, "spec.selector", ""}},
		},
		{
			name:     "Service port no container declares",
			fixtures: []string{"service-wrong-port", "deployment-compliant"},
			want:     []brief{{"Service/api-metrics", "service-port-matches", Warn, "spec.ports[name=metrics].targetPort", ""}},
		},
		{
			name:     "Service evaluated without its workload",
			fixtures: []string{"service-matching"},
			want:     []brief{{"Service/api", "service-selects-workload", Warn, "spec.selector", ""}},
		},
		{
			name:     "removed API version",
			fixtures: []string{"ingress-removed-api"},
			want:     []brief{{"Ingress/api", "deprecated-api", Deny, "apiVersion", ""}},
		},
		{
			name:     "exemptions",
			fixtures: []string{"deployment-exempted"},
			want: []brief{
				{"Deployment/vendor", "exemption-reason", Deny, "metadata.annotations[policy.gitops-agent.io/exempt.probes]", ""},
				{"Deployment/vendor", "image-tag", Deny, "spec.template.spec.containers[name=vendor].image", "vendor chart pins the image by its own release process"},
				{"Deployment/vendor", "probes", Warn, "spec.template.spec.containers[name=vendor].livenessProbe", ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []render.Object
			for _, f := range tt.fixtures {
				objs = append(objs, fixture(t, f))
			}
			found, err := set.Evaluate(context.Background(), "test", objs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, briefs(found), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range found {
				if f.Env != "test" || f.Source == "" || f.Object.Namespace != "shop" {
					t.Errorf("finding %+v lacks its environment, source or namespace", f)
				}
				if f.Message == "" || strings.Contains(f.Message, "hunter2") {
					t.Errorf("finding %s %s: message %q is empty or shows the secret value", f.Rule, f.Field, f.Message)
				}
			}
		})
	}
}

// TestThirdPartyPolicies checks conftest compatibility: Rego v0 syntax, string and object
// results, deny_/warn_/violation rules, exception rules, and the namespaces queried.
func TestThirdPartyPolicies(t *testing.T) {
	objs := []render.Object{fixture(t, "deployment-violations"), fixture(t, "service-matching"), fixture(t, "configmap-plain")}
	objs[0].Obj.Object["spec"].(map[string]any)["replicas"] = int64(1)
	tests := []struct {
		name string
		opts RegoOptions
		want []brief
	}{
		{
			name: "package main",
			opts: DefaultRegoOptions(),
			want: []brief{
				{"Deployment/legacy", "deny", Deny, "", ""},
				{"Deployment/legacy", "warn_replicas", Warn, "", "conftest exception in package main"},
				{"Service/api", "violation", Deny, "", ""},
			},
		},
		{
			name: "named namespaces",
			opts: RegoOptions{Namespaces: []string{"kubernetes"}},
			want: []brief{{"ConfigMap/plain", "kubernetes.deny", Deny, "", ""}},
		},
		{
			name: "all namespaces",
			opts: RegoOptions{AllNamespaces: true},
			want: []brief{
				{"Deployment/legacy", "deny", Deny, "", ""},
				{"Deployment/legacy", "warn_replicas", Warn, "", "conftest exception in package main"},
				{"Service/api", "violation", Deny, "", ""},
				{"ConfigMap/plain", "kubernetes.deny", Deny, "", ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := loadTestRego(t, "testdata/rego/thirdparty", tt.opts)
			found, err := set.Evaluate(context.Background(), "test", objs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, briefs(found), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
	set := loadTestRego(t, "testdata/rego/thirdparty", DefaultRegoOptions())
	found, err := set.Evaluate(context.Background(), "test", objs[:1])
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(found, func(f Finding) bool { return f.Rule == "deny" }); i < 0 || found[i].Message != "legacy must not run as root" {
		t.Errorf("string result: got %+v", found)
	}
}

func TestLoadRegoErrors(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		opts RegoOptions
		want []string // substrings of the error
	}{
		{"parse error names file and row", "testdata/rego/broken", DefaultRegoOptions(), []string{filepath.Join("testdata/rego/broken", "bad.rego") + ":6", "rego_parse_error"}},
		{"compile error names file and row", "testdata/rego/undefined", DefaultRegoOptions(), []string{filepath.Join("testdata/rego/undefined", "undefined.rego") + ":4", "no_such_helper"}},
		{"network built-ins are refused", "testdata/rego/unsafe", DefaultRegoOptions(), []string{"exfiltrate.rego:4", "http.send"}},
		{"no rules in the namespaces", "testdata/rego/thirdparty", RegoOptions{Namespaces: []string{"nothing"}}, []string{"no deny, violation or warn rules in package nothing"}},
		{"missing folder", "testdata/rego/missing", DefaultRegoOptions(), []string{"policy directory", "missing"}},
		{"folder without policies", "testdata/rego/objects", DefaultRegoOptions(), []string{"no .rego files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadRegoDir(context.Background(), tt.dir, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}

	_, err := LoadRegoDir(context.Background(), "testdata/rego/broken", DefaultRegoOptions())
	var ce *RegoCompileError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Row != 6 {
		t.Errorf("want a *RegoCompileError with one problem at row 6, got %#v", err)
	}
}

func TestEvaluateRejectsMalformedResults(t *testing.T) {
	set := loadTestRego(t, "testdata/rego/badresult", DefaultRegoOptions())
	_, err := set.Evaluate(context.Background(), "test", []render.Object{fixture(t, "configmap-plain")})
	if err == nil || !strings.Contains(err.Error(), "data.main.deny") || !strings.Contains(err.Error(), "ConfigMap/shop/plain") {
		t.Fatalf("got %v, want an error naming the rule and the object", err)
	}
}

func TestDefaultRegoIsTheRepositorySet(t *testing.T) {
	set, err := LoadDefaultRego(context.Background(), DefaultRegoOptions())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"data.main.deny", "data.main.warn"}, set.Rules()); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	for _, f := range set.Files() {
		if strings.HasSuffix(f, "_test.rego") {
			t.Errorf("the engine loaded test file %s", f)
		}
	}
}

// TestEvaluateConcurrently evaluates two environments at once with one set (run with -race).
func TestEvaluateConcurrently(t *testing.T) {
	set := loadTestRego(t, "../policies", DefaultRegoOptions())
	corpus := mixedCorpus(400)
	errs := make(chan error, 2)
	for _, env := range []string{"staging", "prod"} {
		go func() {
			found, err := set.Evaluate(context.Background(), env, corpus)
			if err == nil && len(found) == 0 {
				err = errors.New("no findings on the corpus")
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
