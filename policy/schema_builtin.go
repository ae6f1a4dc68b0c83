package policy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsapply "k8s.io/apiextensions-apiserver/pkg/client/applyconfiguration"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	utilversion "k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/applyconfigurations"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	componentversion "k8s.io/component-base/version"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// objectMetaModel is the OpenAPI model of metadata, used to check the metadata of custom
// resources, whose CRD schemas do not describe it.
const objectMetaModel = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

// builtinSchemas holds the structured-merge-diff schema of every built-in kind, resolved once
// from the OpenAPI models embedded in client-go (and apiextensions-apiserver for CRDs).
type builtinSchemas struct {
	// kubernetes is the Kubernetes version whose API this is, e.g. "1.37".
	kubernetes string
	kinds      map[schema.GroupVersionKind]*builtinKind
	// versions lists the served versions of each built-in group and kind, preferred first.
	versions   map[schema.GroupKind][]string
	objectMeta typed.ParseableType
}

// builtinKind is one built-in kind at one version.
type builtinKind struct {
	gvk    schema.GroupVersionKind
	parser typed.ParseableType
	// removedIn and deprecatedIn are Kubernetes versions ("1.22") from the type's prerelease
	// lifecycle, set only when they are not later than the API version this is built with.
	removedIn, deprecatedIn string
	replacement             schema.GroupVersionKind
}

// The prerelease-lifecycle methods generated on beta and deprecated API types.
type (
	lifecycleRemoved interface {
		APILifecycleRemoved() (major, minor int)
	}
	lifecycleDeprecated interface {
		APILifecycleDeprecated() (major, minor int)
	}
	lifecycleReplaced interface {
		APILifecycleReplacement() schema.GroupVersionKind
	}
)

func newBuiltinSchemas() (*builtinSchemas, error) {
	major, minor, err := kubernetesVersion()
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("registering the built-in kinds: %w", err)
	}
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("registering CustomResourceDefinition: %w", err)
	}
	core := applyconfigurations.NewTypeConverter(scheme)
	apiextensions := apiextensionsapply.NewTypeConverter(scheme)

	b := &builtinSchemas{
		kubernetes: fmt.Sprintf("%d.%d", major, minor),
		kinds:      make(map[schema.GroupVersionKind]*builtinKind),
		versions:   make(map[schema.GroupKind][]string),
	}
	metaPkg := reflect.TypeFor[metav1.ObjectMeta]().PkgPath()
	for gvk, t := range scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || t.PkgPath() == metaPkg {
			continue // internal types and the meta/v1 options are never objects in a manifest
		}
		converter := core
		if gvk.Group == apiextensionsv1.GroupName {
			converter = apiextensions
		}
		parser, ok := resolveParser(converter, gvk)
		if !ok {
			continue // no OpenAPI model: not an object one can apply (e.g. list kinds)
		}
		kind := &builtinKind{gvk: gvk, parser: parser}
		example := reflect.New(t).Interface()
		if l, ok := example.(lifecycleRemoved); ok {
			if rmaj, rmin := l.APILifecycleRemoved(); rmaj < major || rmaj == major && rmin <= minor {
				kind.removedIn = fmt.Sprintf("%d.%d", rmaj, rmin)
			}
		}
		if l, ok := example.(lifecycleDeprecated); ok {
			if dmaj, dmin := l.APILifecycleDeprecated(); dmaj < major || dmaj == major && dmin <= minor {
				kind.deprecatedIn = fmt.Sprintf("%d.%d", dmaj, dmin)
			}
		}
		if l, ok := example.(lifecycleReplaced); ok {
			kind.replacement = l.APILifecycleReplacement()
		}
		b.kinds[gvk] = kind
		if kind.removedIn == "" {
			b.versions[gvk.GroupKind()] = append(b.versions[gvk.GroupKind()], gvk.Version)
		}
	}
	for _, versions := range b.versions {
		slices.SortFunc(versions, func(a, b string) int { return -version.CompareKubeAwareVersionStrings(a, b) })
	}

	// Any resolved kind carries the whole schema, metadata included.
	deployment := b.kinds[schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}]
	if deployment == nil {
		return nil, fmt.Errorf("the OpenAPI models embedded in client-go lack apps/v1 Deployment; the client-go module is broken")
	}
	name := objectMetaModel
	b.objectMeta = typed.ParseableType{Schema: deployment.parser.Schema, TypeRef: smdschema.TypeRef{NamedType: &name}}
	if !b.objectMeta.IsValid() {
		return nil, fmt.Errorf("the OpenAPI models embedded in client-go lack %s; the client-go module is broken", objectMetaModel)
	}
	return b, nil
}

// resolveParser finds the schema of gvk by converting an empty object of that kind: the type
// converter maps the kind to its OpenAPI model name through the scheme, and the typed value it
// returns carries the schema and type reference, which are then reused for every object of the
// kind without going through the scheme again.
func resolveParser(tc managedfields.TypeConverter, gvk schema.GroupVersionKind) (typed.ParseableType, bool) {
	empty := &unstructured.Unstructured{}
	empty.SetGroupVersionKind(gvk)
	tv, err := tc.ObjectToTyped(empty)
	if err != nil {
		return typed.ParseableType{}, false
	}
	return typed.ParseableType{Schema: tv.Schema(), TypeRef: tv.TypeRef()}, true
}

// kubernetesVersion is the Kubernetes version whose API the built-in schemas describe: the
// release the k8s.io modules this binary is built with belong to.
func kubernetesVersion() (major, minor int, err error) {
	v, err := utilversion.ParseMajorMinor(componentversion.DefaultKubeBinaryVersion)
	if err != nil {
		return 0, 0, fmt.Errorf("reading the Kubernetes API version %q: %w", componentversion.DefaultKubeBinaryVersion, err)
	}
	return int(v.Major()), int(v.Minor()), nil
}

// check validates obj against the kind's schema.
func (k *builtinKind) check(obj map[string]any, r *objectReport) {
	checkTyped(k.parser, obj, "", explainTarget{gvk: k.gvk}, r)
}

// servedReplacement follows the replacement chain of a removed or deprecated kind to the first
// version the API still serves.
func (b *builtinSchemas) servedReplacement(k *builtinKind) (schema.GroupVersionKind, bool) {
	seen := map[schema.GroupVersionKind]bool{k.gvk: true}
	for next := k.replacement; !next.Empty() && !seen[next]; {
		seen[next] = true
		r, ok := b.kinds[next]
		if !ok {
			break
		}
		if r.removedIn == "" {
			return next, true
		}
		next = r.replacement
	}
	if versions := b.versions[k.gvk.GroupKind()]; len(versions) > 0 {
		return k.gvk.GroupKind().WithVersion(versions[0]), true
	}
	return schema.GroupVersionKind{}, false
}

func (b *builtinSchemas) removedMessage(gvk schema.GroupVersionKind, k *builtinKind) string {
	msg := fmt.Sprintf("%s %s was removed from the Kubernetes API in %s; the API server (%s) no longer serves it",
		gvk.GroupVersion(), gvk.Kind, k.removedIn, b.kubernetes)
	if r, ok := b.servedReplacement(k); ok {
		msg += fmt.Sprintf("; migrate to apiVersion %s (kind %s), whose fields may differ", r.GroupVersion(), r.Kind)
	}
	return msg
}

func (b *builtinSchemas) deprecatedMessage(gvk schema.GroupVersionKind, k *builtinKind) string {
	msg := fmt.Sprintf("%s %s is deprecated since Kubernetes %s and will be removed", gvk.GroupVersion(), gvk.Kind, k.deprecatedIn)
	if r, ok := b.servedReplacement(k); ok && r != gvk {
		msg += fmt.Sprintf("; migrate to apiVersion %s (kind %s)", r.GroupVersion(), r.Kind)
	}
	return msg
}

func (b *builtinSchemas) unservedVersionMessage(gvk schema.GroupVersionKind) string {
	versions := b.versions[gvk.GroupKind()]
	gvs := make([]string, len(versions))
	for i, v := range versions {
		gvs[i] = schema.GroupVersion{Group: gvk.Group, Version: v}.String()
	}
	return fmt.Sprintf("Kubernetes %s does not serve %s at apiVersion %s; use apiVersion %s",
		b.kubernetes, gvk.Kind, gvk.GroupVersion(), strings.Join(gvs, " or "))
}
