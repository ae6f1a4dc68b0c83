package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestCheckNames(t *testing.T) {
	type result struct{ Rule, Field, Message string }
	tests := []struct {
		name string
		gk   schema.GroupKind
		meta map[string]any
		want []result // Message: a part the message must contain
	}{
		{
			name: "upper-case namespace",
			gk:   schema.GroupKind{Group: "apps", Kind: "Deployment"},
			meta: map[string]any{"name": "api", "namespace": "Pilot1"},
			want: []result{{RuleName, "metadata.namespace", `namespace "Pilot1" is invalid: namespace names must be a lowercase RFC 1123 label`}},
		},
		{
			name: "namespace name",
			gk:   schema.GroupKind{Kind: "Namespace"},
			meta: map[string]any{"name": "Pilot1"},
			want: []result{{RuleName, "metadata.name", `rename it, for example to "pilot1"`}},
		},
		{
			name: "service with a dot",
			gk:   schema.GroupKind{Kind: "Service"},
			meta: map[string]any{"name": "api.v2", "namespace": "shop"},
			want: []result{{RuleName, "metadata.name", "Service names must be a lowercase RFC 1123 label"}},
		},
		{
			name: "service name starting with a digit is a valid label",
			gk:   schema.GroupKind{Kind: "Service"},
			meta: map[string]any{"name": "1api", "namespace": "shop"},
		},
		{
			name: "configmap with dots is a valid subdomain",
			gk:   schema.GroupKind{Kind: "ConfigMap"},
			meta: map[string]any{"name": "api.config.v2", "namespace": "shop"},
		},
		{
			name: "too long subdomain",
			gk:   schema.GroupKind{Kind: "ConfigMap"},
			meta: map[string]any{"name": strings.Repeat("a", 254), "namespace": "shop"},
			want: []result{{RuleName, "metadata.name", "must be no more than 253 characters"}},
		},
		{
			name: "custom resource upper case",
			gk:   schema.GroupKind{Group: "cert-manager.io", Kind: "Certificate"},
			meta: map[string]any{"name": "WebCert", "namespace": "shop"},
			want: []result{{RuleName, "metadata.name", "Certificate names must be a lowercase RFC 1123 subdomain"}},
		},
		{
			name: "cluster role with colons",
			gk:   schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"},
			meta: map[string]any{"name": "system:Aggregate:View"},
		},
		{
			name: "role with a slash",
			gk:   schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "Role"},
			meta: map[string]any{"name": "a/b", "namespace": "shop"},
			want: []result{{RuleName, "metadata.name", `may not contain '/'`}},
		},
		{
			name: "certificate signing request takes any name",
			gk:   schema.GroupKind{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"},
			meta: map[string]any{"name": "Node CSR #1"},
		},
		{
			name: "labels and annotations",
			gk:   schema.GroupKind{Kind: "ConfigMap"},
			meta: map[string]any{
				"name": "c", "namespace": "shop",
				"labels":      map[string]any{"ok": "yes", "bad key": "v", "long": strings.Repeat("x", 64), "typed": 1},
				"annotations": map[string]any{"Example.com/Mixed-Case": "fine", "a/b/c": "x"},
				"finalizers":  []any{"example.com/cleanup", "not a finalizer"},
			},
			want: []result{
				{RuleMetadata, "metadata.annotations[a/b/c]", `annotation key "a/b/c" is invalid`},
				{RuleMetadata, "metadata.finalizers[1]", `finalizer "not a finalizer" is not a qualified name`},
				{RuleMetadata, "metadata.labels[bad key]", `label key "bad key" is invalid`},
				{RuleMetadata, "metadata.labels[long]", "must be no more than 63 bytes"},
			},
		},
		{
			name: "annotations too large",
			gk:   schema.GroupKind{Kind: "ConfigMap"},
			meta: map[string]any{"name": "c", "annotations": map[string]any{"big": strings.Repeat("x", 300_000)}},
			want: []result{{RuleMetadata, "metadata.annotations", "more than the API server's limit of 262144 bytes"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &objectReport{}
			checkNames(tt.gk, map[string]any{"metadata": tt.meta}, tt.meta, r)
			var got []result
			for i, f := range r.sorted() {
				got = append(got, result{f.Rule, f.Field, f.Message})
				if f.Severity != Deny {
					t.Errorf("finding %d has severity %s, want deny", i, f.Severity)
				}
				if i < len(tt.want) && strings.Contains(f.Message, tt.want[i].Message) {
					got[i].Message = tt.want[i].Message
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckNamesPodTemplateLabels(t *testing.T) {
	obj := map[string]any{"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{
		"metadata": map[string]any{"labels": map[string]any{"app": "night report"}},
	}}}}}
	r := &objectReport{}
	checkNames(schema.GroupKind{Group: "batch", Kind: "CronJob"}, obj, map[string]any{"name": "report"}, r)
	var fields []string
	for _, f := range r.findings {
		fields = append(fields, f.Field)
	}
	if diff := cmp.Diff([]string{"spec.jobTemplate.spec.template.metadata.labels[app]"}, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestSanitizeName(t *testing.T) {
	tests := []struct {
		name   string
		maxLen int
		dots   bool
		want   string
	}{
		{name: "Pilot1", maxLen: 63, want: "pilot1"},
		{name: "api.v2", maxLen: 63, want: "api-v2"},
		{name: "api.v2", maxLen: 253, dots: true, want: "api.v2"},
		{name: "_My Service_", maxLen: 63, want: "my-service"},
		{name: "abcdef-", maxLen: 6, want: "abcdef"},
		{name: "abcde-fgh", maxLen: 6, want: "abcde"},
		{name: "---", maxLen: 63, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitizeName(tt.name, tt.maxLen, tt.dots); got != tt.want {
				t.Errorf("sanitizeName(%q, %d, %t) = %q, want %q", tt.name, tt.maxLen, tt.dots, got, tt.want)
			}
		})
	}
}
