package policy

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// nameRule is how the API server validates the names of one kind.
type nameRule struct {
	// what names the format in messages: "a lowercase RFC 1123 label".
	what     string
	validate func(name string) []string
	// suggest turns an invalid name into a valid one, or returns "".
	suggest func(name string) string
}

func dnsLabelRule() nameRule {
	return nameRule{
		what:     "a lowercase RFC 1123 label (at most 63 characters: a-z, 0-9 and '-', starting and ending with a letter or digit)",
		validate: func(n string) []string { return apimachineryvalidation.NameIsDNSLabel(n, false) },
		suggest:  func(n string) string { return sanitizeName(n, validation.DNS1123LabelMaxLength, false) },
	}
}

func dnsSubdomainRule() nameRule {
	return nameRule{
		what:     "a lowercase RFC 1123 subdomain (at most 253 characters: a-z, 0-9, '-' and '.', starting and ending with a letter or digit)",
		validate: func(n string) []string { return apimachineryvalidation.NameIsDNSSubdomain(n, false) },
		suggest:  func(n string) string { return sanitizeName(n, validation.DNS1123SubdomainMaxLength, true) },
	}
}

func pathSegmentRule() nameRule {
	return nameRule{
		what:     "a path segment (anything but '.', '..', or a name containing '/' or '%')",
		validate: content.IsPathSegmentName,
		suggest: func(n string) string {
			if n == "." || n == ".." {
				return ""
			}
			return strings.NewReplacer("/", "-", "%", "-").Replace(n)
		},
	}
}

// cronJobRule: the CronJob controller appends an 11-character suffix to create Jobs, whose
// names become labels of at most 63 characters.
func cronJobRule() nameRule {
	return nameRule{
		what: "a lowercase RFC 1123 subdomain of at most 52 characters",
		validate: func(n string) []string {
			msgs := apimachineryvalidation.NameIsDNSSubdomain(n, false)
			if len(n) > 52 {
				msgs = append(msgs, "must be no more than 52 characters")
			}
			return msgs
		},
		suggest: func(n string) string { return sanitizeName(n, 52, true) },
	}
}

// nameRuleFor returns the name rule the API server applies to kind gk; custom resources and
// kinds without a rule of their own use RFC 1123 subdomains.
func nameRuleFor(gk schema.GroupKind) nameRule {
	switch gk {
	case schema.GroupKind{Kind: "Namespace"}, schema.GroupKind{Kind: "Service"},
		schema.GroupKind{Group: "apps", Kind: "StatefulSet"}:
		return dnsLabelRule()
	case schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "Role"},
		schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"},
		schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"},
		schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:
		return pathSegmentRule()
	case schema.GroupKind{Group: "batch", Kind: "CronJob"}:
		return cronJobRule()
	case schema.GroupKind{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"},
		schema.GroupKind{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle"},
		schema.GroupKind{Group: "networking.k8s.io", Kind: "IPAddress"},
		schema.GroupKind{Group: "internal.apiserver.k8s.io", Kind: "StorageVersion"}:
		// Any name, or names the offline check cannot judge: IPAddress names are IP
		// addresses, ClusterTrustBundle names depend on the signer.
		return nameRule{}
	}
	return dnsSubdomainRule()
}

// podTemplateLabels returns where kind gk keeps the labels of the pods it creates; the API
// server validates them like the object's own.
func podTemplateLabels(gk schema.GroupKind) []string {
	switch gk {
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}, schema.GroupKind{Group: "apps", Kind: "StatefulSet"},
		schema.GroupKind{Group: "apps", Kind: "DaemonSet"}, schema.GroupKind{Group: "apps", Kind: "ReplicaSet"},
		schema.GroupKind{Group: "batch", Kind: "Job"}, schema.GroupKind{Kind: "ReplicationController"}:
		return []string{"spec", "template", "metadata", "labels"}
	case schema.GroupKind{Group: "batch", Kind: "CronJob"}:
		return []string{"spec", "jobTemplate", "spec", "template", "metadata", "labels"}
	case schema.GroupKind{Kind: "PodTemplate"}:
		return []string{"template", "metadata", "labels"}
	}
	return nil
}

// checkNames reports names, namespaces, labels, annotations and finalizers that the API server
// would reject. Values of the wrong type are left to the schema check.
func checkNames(gk schema.GroupKind, obj, meta map[string]any, r *objectReport) {
	if name, ok := meta["name"].(string); ok && name != "" {
		rule := nameRuleFor(gk)
		if rule.validate != nil {
			if msgs := rule.validate(name); len(msgs) > 0 {
				r.add(RuleName, Deny, "metadata.name", invalidNameMessage("name", name, gk.Kind+" names", rule, msgs))
			}
		}
	}
	if ns, ok := meta["namespace"].(string); ok && ns != "" {
		if msgs := apimachineryvalidation.ValidateNamespaceName(ns, false); len(msgs) > 0 {
			r.add(RuleName, Deny, "metadata.namespace", invalidNameMessage("namespace", ns, "namespace names", dnsLabelRule(), msgs))
		}
	}
	// Paths are strings built only for findings: this runs for every object.
	checkLabels(meta["labels"], "metadata.labels", r)
	if path := podTemplateLabels(gk); path != nil {
		if labels, ok := lookupPath(obj, path...); ok {
			checkLabels(labels, strings.Join(path, "."), r)
		}
	}
	checkAnnotations(meta["annotations"], "metadata.annotations", r)
	if finalizers, ok := meta["finalizers"].([]any); ok {
		for i, f := range finalizers {
			s, ok := f.(string)
			if !ok {
				continue
			}
			for _, msg := range validation.IsQualifiedName(s) {
				r.add(RuleMetadata, Deny, fmt.Sprintf("metadata.finalizers[%d]", i),
					fmt.Sprintf("finalizer %q is not a qualified name: %s", s, msg))
			}
		}
	}
}

func invalidNameMessage(what, name, whose string, rule nameRule, msgs []string) string {
	msg := fmt.Sprintf("%s %q is invalid: %s must be %s", what, name, whose, rule.what)
	// apimachinery's messages restate the format with its regular expression; keep only the
	// specific ones ("must not contain dots", "must be no more than 63 characters").
	var specific []string
	for _, m := range msgs {
		if !strings.Contains(m, "regex used for validation") {
			specific = append(specific, m)
		}
	}
	if len(specific) > 0 {
		msg += " (" + strings.Join(specific, "; ") + ")"
	}
	if rule.suggest != nil {
		if s := rule.suggest(name); s != "" && s != name && len(rule.validate(s)) == 0 {
			return msg + fmt.Sprintf("; rename it, for example to %q, and update every reference to it", s)
		}
	}
	return msg + "; rename it and update every reference to it"
}

func checkLabels(v any, path string, r *objectReport) {
	labels, ok := v.(map[string]any)
	if !ok {
		return
	}
	for key, val := range labels {
		for _, msg := range validation.IsQualifiedName(key) {
			r.add(RuleMetadata, Deny, path+"["+key+"]", fmt.Sprintf("label key %q is invalid: %s", key, msg))
		}
		if s, ok := val.(string); ok {
			for _, msg := range validation.IsValidLabelValue(s) {
				r.add(RuleMetadata, Deny, path+"["+key+"]", fmt.Sprintf("label value %q is invalid: %s; put longer or free-form text in an annotation", s, msg))
			}
		}
	}
}

func checkAnnotations(v any, path string, r *objectReport) {
	annotations, ok := v.(map[string]any)
	if !ok {
		return
	}
	var size int
	for key, val := range annotations {
		// The API server checks annotation keys case-insensitively.
		for _, msg := range validation.IsQualifiedName(strings.ToLower(key)) {
			r.add(RuleMetadata, Deny, path+"["+key+"]", fmt.Sprintf("annotation key %q is invalid: %s", key, msg))
		}
		s, _ := val.(string)
		size += len(key) + len(s)
	}
	if size > apimachineryvalidation.TotalAnnotationSizeLimitB {
		r.add(RuleMetadata, Deny, path, fmt.Sprintf("annotations total %d bytes, more than the API server's limit of %d bytes; "+
			"move large content (for example a last-applied configuration or an embedded file) into a ConfigMap",
			size, apimachineryvalidation.TotalAnnotationSizeLimitB))
	}
}

// sanitizeName lowercases name and replaces what an RFC 1123 label (or, with dots, subdomain)
// does not allow by '-', trimming to maxLen; "" when nothing valid remains.
func sanitizeName(name string, maxLen int, dots bool) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '.' && dots:
			b.WriteRune(c)
		default:
			b.WriteRune('-')
		}
	}
	s := b.String()
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	return strings.Trim(s, "-.")
}

// lookupPath returns the value at path in obj.
func lookupPath(obj map[string]any, path ...string) (any, bool) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}
