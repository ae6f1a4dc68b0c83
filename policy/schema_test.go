package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

// newTestSchemaValidator builds a validator that knows the CRDs of testdata/schema/crds.
func newTestSchemaValidator(t testing.TB, opts SchemaOptions) *SchemaValidator {
	t.Helper()
	if opts.CRDDirs == nil {
		opts.CRDDirs = []string{filepath.Join(schemaTestdata, "crds")}
	}
	v, err := NewSchemaValidator(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// findingKey is what the table tests compare; messages are covered by the golden files.
type findingKey struct {
	Object   string
	Rule     string
	Severity Severity
	Field    string
}

func keysOf(findings []Finding) []findingKey {
	var keys []findingKey
	for _, f := range findings {
		keys = append(keys, findingKey{Object: f.Object.String(), Rule: f.Rule, Severity: f.Severity, Field: f.Field})
	}
	return keys
}

const deployAPI = "Deployment.apps/shop/api"

func TestSchemaValidate(t *testing.T) {
	v := newTestSchemaValidator(t, SchemaOptions{})
	tests := []struct {
		fixture string
		want    []findingKey
	}{
		{fixture: "builtin-valid.yaml"},
		{fixture: "widget-valid.yaml"},
		{
			fixture: "deployment-unknown-field.yaml",
			want: []findingKey{
				{deployAPI, RuleSchema, Deny, "metadata.label"},
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"].imagePulPolicy`},
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"].readinessProbe.initialDelay`},
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"].readinessProbe.timeout`},
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"].resources.limit`},
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="sidecar"].replicas`},
			},
		},
		{
			fixture: "deployment-wrong-type.yaml",
			want: []findingKey{
				{deployAPI, RuleSchema, Deny, "spec.replicas"},
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"].args`},
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"].colour`},
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"].env[name="DEBUG"].value`},
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"].env[name="WORKERS"].value`},
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"].ports`},
			},
		},
		{
			fixture: "deployment-duplicate-container.yaml",
			want:    []findingKey{{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"]`}},
		},
		{
			fixture: "deployment-duplicate-env.yaml",
			want: []findingKey{
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"].env[name="LOG_LEVEL"]`},
				{deployAPI, RuleSchema, Deny, `spec.template.spec.containers[name="api"].ports[containerPort=8080,protocol="TCP"]`},
			},
		},
		{
			fixture: "secret-wrong-type.yaml",
			want: []findingKey{
				{"Secret/shop/api-db", RuleSchema, Deny, "data.token"},
				{"Secret/shop/api-db", RuleSchema, Deny, "stringData.password"},
				{"Secret/shop/api-db", RuleSchema, Deny, "stringData.pin"},
			},
		},
		{
			fixture: "object-missing-basics.yaml",
			want: []findingKey{
				{"ConfigMap/shop/no-api-version", RuleSchema, Deny, "apiVersion"},
				{"/shop/no-kind", RuleSchema, Deny, "kind"},
				{"ConfigMap/shop/", RuleSchema, Deny, "metadata.name"},
				{"ConfigMap/", RuleSchema, Deny, "metadata"},
				{"/bad-api-version", RuleSchema, Deny, "apiVersion"},
			},
		},
		{
			fixture: "names-invalid.yaml",
			want: []findingKey{
				{"Namespace/Pilot1", RuleName, Deny, "metadata.name"},
				{"Deployment.apps/Pilot1/api", RuleMetadata, Deny, "metadata.annotations[-bad-key]"},
				{"Deployment.apps/Pilot1/api", RuleMetadata, Deny, "metadata.labels[example.com/team name]"},
				{"Deployment.apps/Pilot1/api", RuleMetadata, Deny, "metadata.labels[version]"},
				{"Deployment.apps/Pilot1/api", RuleName, Deny, "metadata.namespace"},
				{"Deployment.apps/Pilot1/api", RuleMetadata, Deny, "spec.template.metadata.labels[tier]"},
				{"Service/shop/api.v2", RuleName, Deny, "metadata.name"},
				{"ConfigMap/shop/Api_Config", RuleName, Deny, "metadata.name"},
				{"ClusterRole.rbac.authorization.k8s.io/shop/admin", RuleName, Deny, "metadata.name"},
				{"CronJob.batch/shop/a-very-long-cron-job-name-that-exceeds-the-fifty-two-limit", RuleName, Deny, "metadata.name"},
				{"StatefulSet.apps/shop/db.primary", RuleName, Deny, "metadata.name"},
			},
		},
		{
			fixture: "api-versions.yaml",
			want: []findingKey{
				{"Ingress.extensions/shop/legacy", RuleDeprecatedAPI, Deny, "apiVersion"},
				{"Deployment.apps/shop/legacy", RuleDeprecatedAPI, Deny, "apiVersion"},
				{"Deployment.apps/shop/future", RuleSchema, Deny, "apiVersion"},
				{"Endpoints/shop/external-db", RuleDeprecatedAPI, Warn, "apiVersion"},
				{"FlowSchema.flowcontrol.apiserver.k8s.io/legacy", RuleDeprecatedAPI, Deny, "apiVersion"},
			},
		},
		{
			fixture: "unknown-kind.yaml",
			want: []findingKey{
				{"Frobnicator.example.org/shop/x", RuleSchemaUnknownKind, Deny, ""},
				{"Deploymnet/shop/typo", RuleSchemaUnknownKind, Deny, ""},
			},
		},
		{
			fixture: "widget-invalid.yaml",
			want: []findingKey{
				{"Widget.example.com/shop/unknown-fields", RuleSchema, Deny, "metadata.lables"},
				{"Widget.example.com/shop/unknown-fields", RuleSchema, Deny, "spec.ports[0].protocol"},
				{"Widget.example.com/shop/unknown-fields", RuleSchema, Deny, "spec.sise"},
				{"Widget.example.com/shop/wrong-values", RuleSchema, Warn, ""},
				{"Widget.example.com/shop/wrong-values", RuleSchema, Deny, "spec.color"},
				{"Widget.example.com/shop/wrong-values", RuleSchema, Deny, "spec.minReplicas"},
				{"Widget.example.com/shop/wrong-values", RuleSchema, Deny, "spec.size"},
				{"Widget.example.com/shop/duplicate-ports", RuleSchema, Deny, "spec.ports[1]"},
				{"Widget.example.com/shop/cel-rule", RuleSchema, Deny, "spec"},
				{"Widget.example.com/shop/missing-size", RuleSchema, Warn, ""},
				{"Widget.example.com/shop/missing-size", RuleSchema, Deny, "spec.size"},
				{"Widget.example.com/shop/unserved", RuleSchema, Deny, "apiVersion"},
				{"Widget.example.com/shop/unknown-version", RuleSchema, Deny, "apiVersion"},
				{"Widget.example.com/shop/deprecated", RuleDeprecatedAPI, Warn, "apiVersion"},
			},
		},
		{
			fixture: "crd-in-render.yaml",
			want: []findingKey{
				{"Gadget.example.net/bad", RuleSchema, Deny, "spec.endpoint"},
				{"Gadget.example.net/bad", RuleSchema, Deny, "spec.extra"},
				{"Gadget.example.net/bad", RuleSchema, Deny, "spec.replicas"},
			},
		},
		{
			fixture: "crd-invalid.yaml",
			want: []findingKey{
				{"CustomResourceDefinition.apiextensions.k8s.io/doohickeys.example.io", RuleSchema, Deny, "metadata.name"},
				{"CustomResourceDefinition.apiextensions.k8s.io/doohickeys.example.io", RuleSchema, Deny, "spec.versions[0].schema.openAPIV3Schema.properties[spec].type"},
				{"Thingamajig.example.io/shop/t", RuleSchema, Deny, ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.fixture, ".yaml"), func(t *testing.T) {
			objs := readObjects(t, tt.fixture)
			got, err := v.Validate(context.Background(), "dev", objs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, keysOf(got)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nall findings:\n%s", diff, formatFindings(got))
			}
			for _, f := range got {
				if f.Env != "dev" || f.Source != filepath.ToSlash(filepath.Join(schemaTestdata, tt.fixture)) || f.Message == "" {
					t.Errorf("finding lacks env, source or message: %+v", f)
				}
			}
		})
	}
}

// TestSchemaGolden pins the messages of every fixture's findings; refresh with -update.
func TestSchemaGolden(t *testing.T) {
	v := newTestSchemaValidator(t, SchemaOptions{})
	fixtures, err := filepath.Glob(filepath.Join(schemaTestdata, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range fixtures {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			got, err := v.Validate(context.Background(), "dev", readObjects(t, name))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join(schemaTestdata, "golden", strings.TrimSuffix(name, ".yaml")+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(formatFindings(got)), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), formatFindings(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestSchemaSecretValuesNeverQuoted(t *testing.T) {
	v := newTestSchemaValidator(t, SchemaOptions{})
	objs := readObjects(t, "secret-wrong-type.yaml")
	got, err := v.Validate(context.Background(), "dev", objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no findings for a Secret with values of the wrong type")
	}
	for _, f := range got {
		for _, secret := range []string{"918273645", "c2VjcmV0", "secret"} {
			if strings.Contains(f.Message, secret) {
				t.Errorf("finding quotes the Secret value %q: %s", secret, f.Message)
			}
		}
	}
}

func TestSchemaUnknownKindSeverity(t *testing.T) {
	tests := []struct {
		name string
		opt  Severity
		want Severity
	}{
		{name: "default", opt: "", want: Deny},
		{name: "deny", opt: Deny, want: Deny},
		{name: "warn", opt: Warn, want: Warn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestSchemaValidator(t, SchemaOptions{UnknownKind: tt.opt})
			got, err := v.Validate(context.Background(), "dev", readObjects(t, "unknown-kind.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			want := []findingKey{
				{"Frobnicator.example.org/shop/x", RuleSchemaUnknownKind, tt.want, ""},
				{"Deploymnet/shop/typo", RuleSchemaUnknownKind, tt.want, ""},
			}
			if diff := cmp.Diff(want, keysOf(got)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSchemaCRDOnlyInDirectory checks that without the CRD directory the Widgets are unknown.
func TestSchemaCRDOnlyInDirectory(t *testing.T) {
	v := newTestSchemaValidator(t, SchemaOptions{CRDDirs: []string{}})
	got, err := v.Validate(context.Background(), "dev", readObjects(t, "widget-valid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []findingKey{{"Widget.example.com/shop/small", RuleSchemaUnknownKind, Deny, ""}}
	if diff := cmp.Diff(want, keysOf(got)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestSchemaRenderCRDOverridesDirectory checks that a CRD in the render wins over the CRD
// directory's: the render's Widget CRD here requires a field the directory's does not know.
func TestSchemaRenderCRDOverridesDirectory(t *testing.T) {
	v := newTestSchemaValidator(t, SchemaOptions{})
	crd := readObjects(t, "crds/widgets.yaml")[0]
	u := crd.Obj.DeepCopy()
	versions, _, _ := unstructured.NestedSlice(u.Object, "spec", "versions")
	v1 := versions[0].(map[string]any)
	if err := unstructured.SetNestedStringSlice(v1, []string{"size", "owner"}, "schema", "openAPIV3Schema", "properties", "spec", "required"); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(v1, map[string]any{"type": "string"}, "schema", "openAPIV3Schema", "properties", "spec", "properties", "owner"); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedSlice(u.Object, versions, "spec", "versions"); err != nil {
		t.Fatal(err)
	}
	objs := append([]render.Object{{Obj: u, Source: "crd.yaml"}}, readObjects(t, "widget-valid.yaml")...)
	got, err := v.Validate(context.Background(), "dev", objs)
	if err != nil {
		t.Fatal(err)
	}
	want := []findingKey{
		{"Widget.example.com/shop/small", RuleSchema, Warn, ""}, // CEL rules skipped
		{"Widget.example.com/shop/small", RuleSchema, Deny, "spec.owner"},
	}
	if diff := cmp.Diff(want, keysOf(got)); diff != "" {
		t.Errorf("findings (-want +got):\n%s\n%s", diff, formatFindings(got))
	}
}

// TestSchemaRenderedCRDCache checks that a CRD seen before is not compiled again.
func TestSchemaRenderedCRDCache(t *testing.T) {
	v := newTestSchemaValidator(t, SchemaOptions{})
	objs := readObjects(t, "crd-in-render.yaml")
	first, err := v.renderedCRDs(context.Background(), objs)
	if err != nil {
		t.Fatal(err)
	}
	second, err := v.renderedCRDs(context.Background(), readObjects(t, "crd-in-render.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if first.byIndex[0] == nil || first.byIndex[0] != second.byIndex[0] {
		t.Errorf("the same CRD was compiled twice: %p, then %p", first.byIndex[0], second.byIndex[0])
	}
	objs[0].Obj.SetLabels(map[string]string{"changed": "yes"})
	third, err := v.renderedCRDs(context.Background(), objs)
	if err != nil {
		t.Fatal(err)
	}
	if third.byIndex[0] == first.byIndex[0] {
		t.Error("a changed CRD was taken from the cache")
	}
}

// TestSchemaObjectsBuiltInCode checks objects whose numbers are Go ints, as code (not the YAML
// decoder) builds them.
func TestSchemaObjectsBuiltInCode(t *testing.T) {
	v := newTestSchemaValidator(t, SchemaOptions{})
	objs := []render.Object{
		{Obj: &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "api", "namespace": "shop"},
			"spec": map[string]any{
				"replicas": 2,
				"selector": map[string]any{"matchLabels": map[string]any{"app": "api"}},
				"template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"app": "api"}},
					"spec": map[string]any{"containers": []any{map[string]any{
						"name": "api", "image": "api:1", "ports": []any{map[string]any{"containerPort": int32(8080)}},
					}}},
				},
			},
		}}},
		{Obj: &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "example.com/v1", "kind": "Widget",
			"metadata": map[string]any{"name": "w", "namespace": "shop"},
			"spec":     map[string]any{"size": 0, "minReplicas": 1, "maxReplicas": int16(2)},
		}}},
	}
	got, err := v.Validate(context.Background(), "dev", objs)
	if err != nil {
		t.Fatal(err)
	}
	want := []findingKey{{"Widget.example.com/shop/w", RuleSchema, Deny, "spec.size"}}
	if diff := cmp.Diff(want, keysOf(got)); diff != "" {
		t.Errorf("findings (-want +got):\n%s\n%s", diff, formatFindings(got))
	}
}

func TestSchemaEmptyObject(t *testing.T) {
	v := newTestSchemaValidator(t, SchemaOptions{})
	got, err := v.Validate(context.Background(), "dev", []render.Object{{Obj: nil, Source: "a.yaml"}, {Obj: &unstructured.Unstructured{}, Source: "b.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []findingKey{{"/", RuleSchema, Deny, ""}, {"/", RuleSchema, Deny, ""}}
	if diff := cmp.Diff(want, keysOf(got)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestSchemaConcurrentAndOrdered validates from several goroutines at once (run with -race) and
// checks that findings keep the order of the objects whatever the number of workers.
func TestSchemaConcurrentAndOrdered(t *testing.T) {
	var objs []render.Object
	for _, f := range []string{"deployment-unknown-field.yaml", "names-invalid.yaml", "widget-invalid.yaml", "crd-in-render.yaml", "builtin-valid.yaml"} {
		objs = append(objs, readObjects(t, f)...)
	}
	for range 5 {
		objs = append(objs, objs...)
	}
	sequential := newTestSchemaValidator(t, SchemaOptions{Workers: 1})
	want, err := sequential.Validate(context.Background(), "dev", objs)
	if err != nil {
		t.Fatal(err)
	}
	parallel := newTestSchemaValidator(t, SchemaOptions{Workers: 4})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := parallel.Validate(context.Background(), "dev", objs)
			if err != nil {
				t.Error(err)
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("parallel findings differ from sequential ones (-want +got):\n%s", diff)
			}
		})
	}
	wg.Wait()
}

func TestSchemaContextCancelled(t *testing.T) {
	v := newTestSchemaValidator(t, SchemaOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Validate(ctx, "dev", readObjects(t, "builtin-valid.yaml")); err == nil {
		t.Error("Validate with a cancelled context succeeded")
	}
}

func TestNewSchemaValidatorErrors(t *testing.T) {
	dirs := filepath.Join(schemaTestdata, "crd-dirs")
	tests := []struct {
		name string
		opts SchemaOptions
		want string
	}{
		{name: "bad severity", opts: SchemaOptions{UnknownKind: "block"}, want: `unknown-kind severity "block"`},
		{name: "negative workers", opts: SchemaOptions{Workers: -1}, want: "workers must not be negative"},
		{name: "missing directory", opts: SchemaOptions{CRDDirs: []string{filepath.Join(dirs, "missing")}}, want: "no such file or directory"},
		{name: "invalid yaml", opts: SchemaOptions{CRDDirs: []string{filepath.Join(dirs, "invalid-yaml")}}, want: "bad.yaml: document 2 is not valid YAML"},
		{name: "v1beta1", opts: SchemaOptions{CRDDirs: []string{filepath.Join(dirs, "v1beta1")}}, want: "old.yaml: document 1: CustomResourceDefinition olds.example.com uses apiVersion apiextensions.k8s.io/v1beta1"},
		{name: "not structural", opts: SchemaOptions{CRDDirs: []string{filepath.Join(dirs, "not-structural")}}, want: "CustomResourceDefinition loose.example.com (document 1): version v1: the schema is not structural"},
		{name: "duplicate kind", opts: SchemaOptions{CRDDirs: []string{filepath.Join(schemaTestdata, "crds"), filepath.Join(dirs, "duplicate")}}, want: "defines Widget.example.com, which testdata/schema/crds/widgets.yaml defines already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSchemaValidator(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
