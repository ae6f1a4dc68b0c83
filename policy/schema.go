package policy

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-agent/gitops-agent/render"
)

// Rule ids of the schema check.
const (
	// RuleSchema: the object does not match the schema of its kind (built-in OpenAPI model or
	// CRD), or lacks apiVersion, kind or metadata.name.
	RuleSchema = "schema"
	// RuleSchemaUnknownKind: no built-in schema and no CRD defines the object's kind.
	RuleSchemaUnknownKind = "schema-unknown-kind"
	// RuleName: metadata.name or metadata.namespace breaks the API server's naming rules.
	RuleName = "name"
	// RuleMetadata: a label, annotation or finalizer breaks the API server's rules.
	RuleMetadata = "metadata"
	// RuleDeprecatedAPI: the object uses an API version that is deprecated (a warning) or removed
	// (a denial; the Rego policy of the same id explains the same versions, and the Validator
	// keeps one finding per object, rule and field).
	// versions are RuleSchema denials).
	RuleDeprecatedAPI = "deprecated-api"
)

// SchemaOptions configures a SchemaValidator.
type SchemaOptions struct {
	// UnknownKind is the severity of RuleSchemaUnknownKind findings. Deny (used when empty)
	// blocks objects whose kind the check cannot verify; Warn lets kinds whose CRDs are
	// installed out of band through.
	UnknownKind Severity
	// CRDDirs are directories searched recursively for .yaml, .yml and .json files holding
	// apiextensions.k8s.io/v1 CustomResourceDefinitions; other documents are ignored. They are
	// read and compiled once, by NewSchemaValidator. A CRD among the validated objects takes
	// precedence over one of the same group and kind from these directories.
	CRDDirs []string
	// Workers bounds the goroutines of one Validate call; 0 means GOMAXPROCS.
	Workers int
}

// DefaultSchemaOptions returns the options used when nothing is configured.
func DefaultSchemaOptions() SchemaOptions {
	return SchemaOptions{UnknownKind: Deny}
}

// crdCacheSize bounds the compiled CRDs kept from earlier Validate calls: enough for the CRDs
// of several environments and a few revisions of each.
const crdCacheSize = 512

// objectsPerTask is how many objects a worker takes at a time: large enough that handing out
// work costs nothing, small enough to keep both cores busy until the end.
const objectsPerTask = 32

// SchemaValidator checks rendered objects offline against the OpenAPI schemas of the built-in
// Kubernetes kinds of the client-go version it is built with, and custom resources against the
// schemas of their CRDs. It is safe for concurrent use.
type SchemaValidator struct {
	opts     SchemaOptions
	builtin  *builtinSchemas
	crds     *crdCompiler
	dirCRDs  crdSet
	rendered *crdCache
}

// NewSchemaValidator builds the built-in schemas and compiles the CRDs of opts.CRDDirs. It
// fails when a CRD directory cannot be read or holds a CRD whose schema cannot be compiled.
func NewSchemaValidator(ctx context.Context, opts SchemaOptions) (*SchemaValidator, error) {
	switch opts.UnknownKind {
	case "":
		opts.UnknownKind = Deny
	case Deny, Warn:
	default:
		return nil, fmt.Errorf("schema options: unknown-kind severity %q is neither %q nor %q", opts.UnknownKind, Deny, Warn)
	}
	if opts.Workers < 0 {
		return nil, fmt.Errorf("schema options: workers must not be negative, got %d", opts.Workers)
	}
	builtin, err := newBuiltinSchemas()
	if err != nil {
		return nil, err
	}
	compiler := newCRDCompiler()
	dirCRDs, err := loadCRDDirs(ctx, compiler, opts.CRDDirs)
	if err != nil {
		return nil, err
	}
	return &SchemaValidator{
		opts:     opts,
		builtin:  builtin,
		crds:     compiler,
		dirCRDs:  dirCRDs,
		rendered: newCRDCache(crdCacheSize),
	}, nil
}

// Validate checks every object and returns the findings, object by object in the order of
// objs. CRDs among objs are compiled (or taken from the cache of earlier calls) first, so that
// the custom resources of the same render are checked against them. It returns an error only
// when ctx ends first.
func (v *SchemaValidator) Validate(ctx context.Context, env string, objs []render.Object) ([]Finding, error) {
	rendered, err := v.renderedCRDs(ctx, objs)
	if err != nil {
		return nil, err
	}
	c := &validateCall{v: v, env: env, objs: objs, rendered: rendered}
	perObject := make([][]Finding, len(objs))

	workers := v.opts.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, (len(objs)+objectsPerTask-1)/objectsPerTask)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				start := int(next.Add(objectsPerTask)) - objectsPerTask
				if start >= len(objs) {
					return
				}
				for i := start; i < min(start+objectsPerTask, len(objs)); i++ {
					perObject[i] = c.object(ctx, i)
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("schema check of %d objects interrupted: %w", len(objs), err)
	}

	var n int
	for _, f := range perObject {
		n += len(f)
	}
	findings := make([]Finding, 0, n)
	for _, f := range perObject {
		findings = append(findings, f...)
	}
	return findings, nil
}

// validateCall is the state one Validate call shares between its workers; read-only once the
// workers start.
type validateCall struct {
	v        *SchemaValidator
	env      string
	objs     []render.Object
	rendered renderedCRDs
}

// crd returns the CRD that defines gk: the render's own, else one from the CRD directories.
func (c *validateCall) crd(gk schema.GroupKind) *compiledCRD {
	if crd, ok := c.rendered.byKind[gk]; ok {
		return crd
	}
	return c.v.dirCRDs[gk]
}

// object checks objs[i].
func (c *validateCall) object(ctx context.Context, i int) []Finding {
	o := c.objs[i]
	r := &objectReport{base: Finding{Env: c.env, Source: o.Source}}
	if o.Obj == nil || o.Obj.Object == nil {
		r.add(RuleSchema, Deny, "", "the object is empty; remove the empty document or give it apiVersion, kind and metadata")
		return r.findings
	}
	r.base.Object = o.Ref()
	obj := o.Obj.Object

	gvk, ok := checkTypeMeta(obj, r)
	meta, hasMeta := checkObjectMeta(obj, r)
	if !ok {
		return r.sorted()
	}

	b := c.v.builtin
	kind, builtin := b.kinds[gvk]
	crd := c.crd(gvk.GroupKind())
	switch {
	case builtin && kind.removedIn != "":
		r.add(RuleDeprecatedAPI, Deny, "apiVersion", b.removedMessage(gvk, kind))
	case builtin:
		kind.check(obj, r)
		if kind.deprecatedIn != "" {
			r.add(RuleDeprecatedAPI, Warn, "apiVersion", b.deprecatedMessage(gvk, kind))
		}
		if own := c.rendered.byIndex[i]; own != nil {
			own.reportProblems(r) // the object is a CRD
		}
	case crd != nil:
		crd.check(ctx, gvk, obj, b.objectMeta, r)
	case len(b.versions[gvk.GroupKind()]) > 0:
		r.add(RuleSchema, Deny, "apiVersion", b.unservedVersionMessage(gvk))
	default:
		r.add(RuleSchemaUnknownKind, c.v.opts.UnknownKind, "", unknownKindMessage(gvk))
	}
	if hasMeta {
		checkNames(gvk.GroupKind(), obj, meta, r)
	}
	return r.sorted()
}

// checkTypeMeta reports a missing or malformed apiVersion or kind; ok is false when the object
// cannot be checked any further.
func checkTypeMeta(obj map[string]any, r *objectReport) (gvk schema.GroupVersionKind, ok bool) {
	apiVersion, okVersion := obj["apiVersion"].(string)
	kind, okKind := obj["kind"].(string)
	if !okVersion || apiVersion == "" {
		r.add(RuleSchema, Deny, "apiVersion", `apiVersion is missing or not a string; every object needs one, e.g. "apps/v1" or "v1"`)
	}
	if !okKind || kind == "" {
		r.add(RuleSchema, Deny, "kind", `kind is missing or not a string; every object needs one, e.g. "Deployment"`)
	}
	if !okVersion || !okKind || apiVersion == "" || kind == "" {
		return gvk, false
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		r.add(RuleSchema, Deny, "apiVersion", fmt.Sprintf("apiVersion %q is malformed: %v; write it as group/version, or just version for the core group", apiVersion, err))
		return gvk, false
	}
	return gv.WithKind(kind), true
}

// checkObjectMeta reports a missing metadata or metadata.name and returns the metadata when it
// is a map.
func checkObjectMeta(obj map[string]any, r *objectReport) (map[string]any, bool) {
	meta, ok := obj["metadata"].(map[string]any)
	if !ok {
		if _, present := obj["metadata"]; present {
			// The schema check reports the wrong type with its own message.
			return nil, false
		}
		r.add(RuleSchema, Deny, "metadata", "metadata is missing; every object needs at least metadata.name")
		return nil, false
	}
	// A name of another type is reported by the schema check.
	switch name := meta["name"]; name {
	case nil:
		msg := "metadata.name is missing; every object applied by the agent needs a fixed name"
		if _, gen := meta["generateName"]; gen {
			msg += " (generateName cannot be used: server-side apply needs to know the name in advance)"
		}
		r.add(RuleSchema, Deny, "metadata.name", msg)
	case "":
		r.add(RuleSchema, Deny, "metadata.name", "metadata.name is empty; every object needs a name")
	}
	return meta, true
}

func unknownKindMessage(gvk schema.GroupVersionKind) string {
	return fmt.Sprintf("kind %s of apiVersion %s is neither a built-in Kubernetes kind nor defined by a CustomResourceDefinition "+
		"in this render or the configured CRD directories, so it cannot be checked; check the spelling of kind and apiVersion, "+
		"or add the CRD to the render or to a CRD directory", gvk.Kind, gvk.GroupVersion().String())
}

// objectReport collects the findings of one object.
type objectReport struct {
	base     Finding
	findings []Finding
}

func (r *objectReport) add(rule string, sev Severity, field, msg string) {
	f := r.base
	f.Rule, f.Severity, f.Field, f.Message = rule, sev, field, msg
	r.findings = append(r.findings, f)
}

// sorted returns the findings ordered by field, so that output does not depend on the map
// iteration order of the libraries that produced them.
func (r *objectReport) sorted() []Finding {
	slices.SortStableFunc(r.findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message))
	})
	return slices.CompactFunc(r.findings, func(a, b Finding) bool {
		return a.Field == b.Field && a.Rule == b.Rule && a.Message == b.Message
	})
}
