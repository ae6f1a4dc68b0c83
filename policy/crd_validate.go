package policy

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// check validates the custom resource obj of version gvk.Version against the CRD, following
// the API server's steps on create: metadata, pruning of unknown fields (reported here instead
// of dropped), defaulting, OpenAPI validation, list-type invariants and CEL rules.
func (c *compiledCRD) check(ctx context.Context, gvk schema.GroupVersionKind, obj map[string]any, objectMeta typed.ParseableType, r *objectReport) {
	v, ok := c.versions[gvk.Version]
	if !ok || !v.served {
		r.add(RuleSchema, Deny, "apiVersion", fmt.Sprintf("the CustomResourceDefinition %s does not serve %s at version %s; use apiVersion %s",
			c.name, gvk.Kind, gvk.Version, strings.Join(c.servedGroupVersions(), " or ")))
		return
	}
	if v.deprecated {
		msg := v.deprecationWarning
		if msg == "" {
			msg = fmt.Sprintf("%s %s is deprecated", gvk.GroupVersion(), gvk.Kind)
		}
		r.add(RuleDeprecatedAPI, Warn, "apiVersion", msg+"; see the CustomResourceDefinition "+c.name+" for the version to use")
	}
	explain := explainTarget{gvk: gvk}
	if meta, present := obj["metadata"]; present {
		checkTyped(objectMeta, meta, "metadata", explain, r)
	}
	if v.err != nil {
		r.add(RuleSchema, Deny, "", fmt.Sprintf("cannot be checked: the schema of its CustomResourceDefinition %s does not compile: %v", c.name, v.err))
		return
	}
	if v.structural == nil {
		return // a version without a schema accepts anything
	}

	// Pruning and defaulting change the object: work on a copy.
	work, _ := copyJSON(obj).(map[string]any)
	if !v.preserveUnknown {
		unknown := pruning.PruneWithOptions(work, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
		for _, path := range unknown {
			r.add(RuleSchema, Deny, path, unknownCRFieldMessage(v.structural, path, explain))
		}
		structuraldefaulting.PruneNonNullableNullsWithoutDefaults(work, v.structural)
	}
	structuraldefaulting.Default(work, v.structural)

	errs := apiservervalidation.ValidateCustomResource(nil, work, v.validator)
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, work, v.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, v.structural, work)...)
	if v.cel != nil {
		if blockingForCEL(errs) {
			r.add(RuleSchema, Warn, "", "the x-kubernetes-validations rules of the CRD were not evaluated because of this object's other schema errors; fix those and check again")
		} else {
			celErrs, _ := v.cel.Validate(ctx, nil, v.structural, work, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	for _, e := range errs {
		r.add(RuleSchema, Deny, e.Field, fieldErrorMessage(e))
	}
}

// blockingForCEL mirrors the API server, which skips CEL rules when the object is so malformed
// that they would fail for the wrong reason.
func blockingForCEL(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

func (c *compiledCRD) servedGroupVersions() []string {
	var gvs []string
	for _, name := range c.versionNames(true) {
		gvs = append(gvs, schema.GroupVersion{Group: c.gk.Group, Version: name}.String())
	}
	if len(gvs) == 0 {
		return []string{"(none: the CRD serves no version)"}
	}
	return gvs
}

// prunedPathToken matches one step of a pruning path: a field name or a list index.
var prunedPathToken = regexp.MustCompile(`\[(\d+)\]|[^.\[]+`)

// unknownCRFieldMessage explains an unknown field of a custom resource at path (as pruning
// writes it: "spec.items[0].nmae").
func unknownCRFieldMessage(s *structuralschema.Structural, path string, explain explainTarget) string {
	tokens := prunedPathToken.FindAllString(path, -1)
	if len(tokens) == 0 {
		return "unknown field"
	}
	name := tokens[len(tokens)-1]
	parent := s
	for _, t := range tokens[:len(tokens)-1] {
		if parent == nil {
			break
		}
		switch {
		case strings.HasPrefix(t, "["):
			parent = parent.Items
		default:
			if p, ok := parent.Properties[t]; ok {
				parent = &p
			} else if parent.AdditionalProperties != nil {
				parent = parent.AdditionalProperties.Structural
			} else {
				parent = nil
			}
		}
	}
	var known []string
	if parent != nil {
		for k := range parent.Properties {
			known = append(known, k)
		}
		slices.Sort(known)
	}
	parentPath := strings.TrimSuffix(strings.TrimSuffix(path, name), ".")
	return unknownField{parent: parentPath, name: name, known: known}.message(explain, "")
}

// copyJSON deep-copies an unstructured value. Unlike runtime.DeepCopyJSONValue it accepts any
// Go integer or float, which objects built in code may hold, and normalises them to the int64
// and float64 the schema validators expect.
func copyJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = copyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyJSON(e)
		}
		return out
	case int:
		return int64(v)
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case float32:
		return float64(v)
	default:
		return v
	}
}
