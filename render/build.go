package render

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
)

// Annotations kustomize adds for its own bookkeeping. Origin tracking is switched on by
// the renderer, so its annotation is removed unless the environment asked for it.
const (
	originAnnotation          = "config.kubernetes.io/origin"
	internalAnnotationsPrefix = "internal.config.kubernetes.io/"
)

// build runs kustomize over f's environment and returns its objects.
func build(f *repoFS, opts Options) ([]Object, error) {
	if err := f.preflight(); err != nil {
		return nil, err
	}
	m, err := runKustomize(f, opts)
	if f.refusal != nil {
		return nil, f.refusal
	}
	if err != nil {
		return nil, f.explain(err)
	}
	objs, err := f.objects(m)
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, &Error{Path: f.rootKust, Err: because(ErrEmpty,
			"environment %s renders no objects; an empty render is refused because applying it would delete everything", f.env)}
	}
	return objs, nil
}

// runKustomize runs kustomize, turning a panic inside it into an error: a malformed
// repository must never take the agent down.
func runKustomize(f *repoFS, opts Options) (m resmap.ResMap, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("kustomize panicked: %v", p)
		}
	}()
	return krusty.MakeKustomizer(opts.krustyOptions()).Run(f, f.abs(f.env))
}

// preflight checks the environment directory and finds its kustomization, so that the
// most common mistakes get a precise error rather than kustomize's.
func (f *repoFS) preflight() error {
	real, e, err := f.lookup(f.abs(f.env), false)
	if err != nil {
		return err
	}
	switch e.kind {
	case kindDir:
	case kindMissing:
		return &Error{Path: f.env, Err: because(ErrNotFound, "environment directory does not exist")}
	default:
		return &Error{Path: f.env, Err: because(ErrNoKustomization, "environment is a %s, not a directory", e.kind)}
	}
	var found []string
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		_, e, err := f.lookup(f.abs(joinRel(real, name)), false)
		if err != nil {
			return err
		}
		if e.kind == kindFile {
			found = append(found, name)
		}
	}
	switch len(found) {
	case 0:
		return &Error{Path: f.env, Err: because(ErrNoKustomization,
			"no kustomization.yaml, kustomization.yml or Kustomization in the environment directory")}
	case 1:
		// The kustomization itself may be a symlink; rootKust is the file it resolves to.
		rk, _, err := f.lookup(f.abs(joinRel(real, found[0])), false)
		if err != nil {
			return err
		}
		f.rootKust = rk
		return nil
	default:
		return &Error{Path: f.env, Err: because(ErrInvalid,
			"more than one kustomization file (%s); keep one", strings.Join(found, ", "))}
	}
}

// objects converts kustomize's output, recording each object's source file and removing
// the bookkeeping annotations the renderer asked kustomize for.
func (f *repoFS) objects(m resmap.ResMap) ([]Object, error) {
	out := make([]Object, 0, m.Size())
	for _, res := range m.Resources() {
		origin, err := res.GetOrigin()
		if err != nil {
			return nil, &Error{Path: f.env, Err: because(ErrKustomize, "%s: reading origin annotation: %v", res.CurId(), err)}
		}
		if err := stripBookkeeping(res, f.keepOrigin); err != nil {
			return nil, &Error{Path: f.env, Err: because(ErrKustomize, "%s: %v", res.CurId(), err)}
		}
		// Go through JSON: unstructured needs JSON types (int64, not int), and the YAML
		// node's own errors would quote the object, secrets included.
		b, err := res.MarshalJSON()
		if err != nil {
			return nil, &Error{Path: f.env, Err: because(ErrKustomize, "%s: encoding object failed", res.CurId())}
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(b); err != nil {
			return nil, &Error{Path: f.sourceOf(origin), Err: because(ErrInvalid, "%s: not a Kubernetes object: %v", res.CurId(), err)}
		}
		out = append(out, Object{Obj: u, Source: f.sourceOf(origin)})
	}
	return out, nil
}

// stripBookkeeping removes the origin annotation (unless the environment asked for it)
// and any of kustomize's internal annotations kustomize itself left behind. Annotations
// the user wrote are untouched.
func stripBookkeeping(res *resource.Resource, keepOrigin bool) error {
	annos := res.GetAnnotations()
	changed := false
	for k := range annos {
		if (k == originAnnotation && !keepOrigin) || strings.HasPrefix(k, internalAnnotationsPrefix) {
			delete(annos, k)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return res.SetAnnotations(annos)
}

// sourceOf turns a kustomize origin (paths relative to the environment directory) into
// the repository file a person edits: the manifest, or for a generated object the
// kustomization declaring the generator, with symlinks resolved. Remote origins are
// written as kustomize's URL form: "<repo>//<path>?ref=<ref>".
func (f *repoFS) sourceOf(o *resource.Origin) string {
	if o == nil {
		return ""
	}
	p := o.Path
	if p == "" {
		p = o.ConfiguredIn
	}
	if p == "" {
		return ""
	}
	p = filepath.ToSlash(p)
	if o.Repo != "" {
		s := o.Repo + "//" + p
		if o.Ref != "" {
			s += "?ref=" + o.Ref
		}
		return s
	}
	rel := path.Join(f.env, p)
	if escapes(rel) {
		return ""
	}
	if real, e, err := f.lookup(f.abs(rel), true); err == nil && e.kind == kindFile {
		return real
	}
	return rel
}
