package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/install"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/version"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// crdCompiler turns CustomResourceDefinition objects into validators for their custom
// resources, the way the API server does when it starts serving a CRD.
type crdCompiler struct {
	// scheme converts and defaults CRDs; used read-only after construction.
	scheme *runtime.Scheme
}

func newCRDCompiler() *crdCompiler {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return &crdCompiler{scheme: scheme}
}

// compiledCRD is what the check needs of one CRD.
type compiledCRD struct {
	name       string
	gk         schema.GroupKind
	namespaced bool
	versions   map[string]*crdVersion
	// problems are the reasons the API server would reject the CRD itself; collected only for
	// CRDs among the validated objects.
	problems []*field.Error
}

// crdVersion is one version of a CRD.
type crdVersion struct {
	name               string
	served             bool
	deprecated         bool
	deprecationWarning string
	// preserveUnknown is spec.preserveUnknownFields: the API server keeps unknown fields.
	preserveUnknown bool
	// structural is nil when the version has no schema: its resources are not checked.
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	cel        *cel.Validator // nil when the schema has no x-kubernetes-validations
	// err says why the version's schema could not be compiled.
	err error
}

// compile compiles the CRD obj. With validate, it also collects what the API server's CRD
// validation would reject; that costs more and is only done for CRDs about to be applied.
// Problems never make compile fail: they are recorded in the result.
func (c *crdCompiler) compile(ctx context.Context, obj map[string]any, validate bool) *compiledCRD {
	out := &compiledCRD{versions: map[string]*crdVersion{}}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, crd); err != nil {
		out.problems = append(out.problems, field.Invalid(nil, field.OmitValueType{}, fmt.Sprintf("cannot be read as a CustomResourceDefinition: %v", err)))
		if meta, ok := obj["metadata"].(map[string]any); ok {
			out.name, _ = meta["name"].(string)
		}
		return out
	}
	c.scheme.Default(crd)
	out.name = crd.Name
	out.gk = schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}
	out.namespaced = crd.Spec.Scope == apiextensionsv1.NamespaceScoped

	if validate {
		out.problems = append(out.problems, c.validateCRD(ctx, crd)...)
	}
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		cv := &crdVersion{
			name:            v.Name,
			served:          v.Served,
			deprecated:      v.Deprecated,
			preserveUnknown: crd.Spec.PreserveUnknownFields,
		}
		if v.DeprecationWarning != nil {
			cv.deprecationWarning = *v.DeprecationWarning
		}
		if v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
			cv.err = cv.compileSchema(v.Schema)
		}
		out.versions[v.Name] = cv
	}
	return out
}

// validateCRD runs the API server's create validation of CRDs.
func (c *crdCompiler) validateCRD(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) field.ErrorList {
	internal := &apiextensions.CustomResourceDefinition{}
	if err := c.scheme.Convert(crd, internal, nil); err != nil {
		return field.ErrorList{field.Invalid(nil, field.OmitValueType{}, fmt.Sprintf("cannot be converted for validation: %v", err))}
	}
	// As the API server does on create: status is the server's, and the storage version is
	// the first stored version.
	internal.Status = apiextensions.CustomResourceDefinitionStatus{}
	for _, v := range internal.Spec.Versions {
		if v.Storage {
			internal.Status.StoredVersions = []string{v.Name}
			break
		}
	}
	errs := apiextensionsvalidation.ValidateCustomResourceDefinition(ctx, internal)
	for _, e := range errs {
		e.Field = hoistedFieldPath(e.Field)
	}
	return errs
}

// hoistedFieldPath maps a path of the internal CRD type back to the v1 object people write.
// Converting to the internal type moves a schema (and subresources, columns, selectable
// fields) that all versions share to the top of spec; errors in them point there. The first
// version holds the same content in the v1 object.
func hoistedFieldPath(path string) string {
	for _, f := range []string{"validation", "subresources", "additionalPrinterColumns", "selectableFields"} {
		top := "spec." + f
		if path == top || strings.HasPrefix(path, top+".") || strings.HasPrefix(path, top+"[") {
			v1 := f
			if f == "validation" {
				v1 = "schema"
			}
			return "spec.versions[0]." + v1 + strings.TrimPrefix(path, top)
		}
	}
	return path
}

// compileSchema builds the structural schema, the OpenAPI validator and the CEL rules of one
// version, as the API server's custom resource handler does.
func (cv *crdVersion) compileSchema(v *apiextensionsv1.CustomResourceValidation) error {
	internal := &apiextensions.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v, internal, nil); err != nil {
		return fmt.Errorf("version %s: converting the schema: %w", cv.name, err)
	}
	s, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return fmt.Errorf("version %s: the schema is not structural: %w", cv.name, err)
	}
	if errs := structuralschema.ValidateStructural(field.NewPath("openAPIV3Schema"), s); len(errs) > 0 {
		return fmt.Errorf("version %s: the schema is not structural: %w", cv.name, errs.ToAggregate())
	}
	// The handler prunes defaults on a private copy; the structural schema shares them with
	// the CRD.
	s = s.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(s); err != nil {
		return fmt.Errorf("version %s: pruning the defaults of the schema: %w", cv.name, err)
	}
	validator, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return fmt.Errorf("version %s: building the schema validator: %w", cv.name, err)
	}
	cv.structural, cv.validator = s, validator
	cv.cel = cel.NewValidator(s, true, celconfig.PerCallLimit)
	return nil
}

// compileError joins the errors of the versions whose schema could not be compiled.
func (c *compiledCRD) compileError() error {
	var errs []error
	for _, name := range c.versionNames(false) {
		if err := c.versions[name].err; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// versionNames lists the CRD's versions (only the served ones with servedOnly), preferred
// first.
func (c *compiledCRD) versionNames(servedOnly bool) []string {
	var names []string
	for name, v := range c.versions {
		if v.served || !servedOnly {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return -version.CompareKubeAwareVersionStrings(a, b) })
	return names
}

// reportProblems adds the reasons the API server would reject the CRD to r, the report of the
// CRD object.
func (c *compiledCRD) reportProblems(r *objectReport) {
	for _, e := range c.problems {
		r.add(RuleSchema, Deny, e.Field, "the API server would reject this CustomResourceDefinition: "+fieldErrorMessage(e))
	}
	for _, name := range c.versionNames(false) {
		if err := c.versions[name].err; err != nil && len(c.problems) == 0 {
			r.add(RuleSchema, Deny, "spec.versions", "the API server would reject this CustomResourceDefinition: "+err.Error())
		}
	}
}

// fieldErrorMessage renders a field error without its value, which may be a secret, except for
// the kinds of error whose value is an identifier or a choice the reader needs to see.
func fieldErrorMessage(e *field.Error) string {
	c := *e
	switch c.Type {
	case field.ErrorTypeDuplicate, field.ErrorTypeNotSupported:
	default:
		c.BadValue = field.OmitValueType{}
	}
	return strings.TrimSpace(c.ErrorBody())
}
