package render

import (
	"path"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// errNeedExclusive asks the Renderer to run the render again holding openAPISchema alone;
// it never reaches a caller.
var errNeedExclusive = &Error{Err: because(ErrKustomize, "a custom OpenAPI schema needs an exclusive render")}

// inspectKustomization looks at a kustomization as kustomize reads it, before kustomize
// acts on it. It refuses what the options forbid (remote bases, Helm) so that nothing is
// fetched, remembers which path each entry names (errors then point at the entry's line)
// and which paths are generator inputs (read as bytes, not YAML), and, for the
// environment's own kustomization, turns on origin tracking so every object's source
// file is known.
func (f *repoFS) inspectKustomization(abs, rel string, data []byte) ([]byte, error) {
	if !isText(data) {
		return nil, f.fail(&Error{Path: rel, Err: because(ErrNotText, "kustomization is not UTF-8 text")})
	}
	docs, p := parseYAML(data)
	if p != nil {
		return nil, f.fail(yamlError(rel, p))
	}
	var doc *kyaml.Node
	if len(docs) > 0 {
		doc = docs[0]
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return nil, f.fail(&Error{Path: rel, Line: unknownFieldLine(doc, err), Err: because(ErrInvalid, "%s", err)})
	}
	fixed := k
	fixed.FixKustomization()
	if err := fixed.CheckEmpty(); err != nil {
		return nil, f.fail(&Error{Path: rel, Err: because(ErrInvalid, "kustomization is empty")})
	}
	if !f.kusts[rel] {
		f.kusts[rel] = true
		if err := f.register(abs, rel, doc, &k); err != nil {
			return nil, f.fail(err)
		}
	}
	if len(k.OpenAPI) > 0 && !f.exclusive {
		return nil, f.fail(errNeedExclusive)
	}
	if rel != f.rootKust {
		return data, nil
	}
	out, asked, err := withOriginTracking(data)
	if err != nil {
		// Leave the content alone: kustomize will report what is wrong with it.
		return data, nil
	}
	f.keepOrigin = asked
	return out, nil
}

var unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)

func unknownFieldLine(doc *kyaml.Node, err error) int {
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		return keyLine(doc, m[1])
	}
	return 0
}

// register refuses forbidden entries of kustomization k (at rel, seen by kustomize at abs)
// and records every local path it names.
func (f *repoFS) register(abs, rel string, doc *kyaml.Node, k *types.Kustomization) error {
	dir := path.Dir(abs)
	r := registrar{f: f, dir: dir, rel: rel, doc: doc}

	// Resources and bases are tried as a local file first, then as a repository URL,
	// then as a local directory; components only as a URL or directory; everything else
	// is loaded as a file, where only http(s) URLs are remote.
	for _, res := range append(append([]string(nil), k.Resources...), k.Bases...) {
		remote := isHTTP(res) || (looksLikeRepo(res) && !r.localFile(res))
		if err := r.add("resource", res, remote); err != nil {
			return err
		}
	}
	for _, c := range k.Components {
		if err := r.add("component", c, isHTTP(c) || looksLikeRepo(c)); err != nil {
			return err
		}
	}
	// Paths kustomize loads as files; entries with a newline are inline content.
	type named struct{ field, path string }
	var loaded []named
	each := func(field string, paths ...string) {
		for _, p := range paths {
			if p != "" && !strings.Contains(p, "\n") {
				loaded = append(loaded, named{field, p})
			}
		}
	}
	each("crd", k.Crds...)
	each("configuration", k.Configurations...)
	each("generator", k.Generators...)
	each("transformer", k.Transformers...)
	each("validator", k.Validators...)
	each("openapi schema", k.OpenAPI["path"])
	for _, p := range k.PatchesStrategicMerge {
		each("patch", string(p))
	}
	for _, p := range append(append([]types.Patch(nil), k.Patches...), k.PatchesJson6902...) {
		each("patch", p.Path)
	}
	for _, rp := range k.Replacements {
		each("replacement", rp.Path)
	}
	for _, n := range loaded {
		if err := r.add(n.field, n.path, isHTTP(n.path)); err != nil {
			return err
		}
	}

	for _, g := range k.ConfigMapGenerator {
		if err := r.addData("configMapGenerator", g.Name, g.KvPairSources); err != nil {
			return err
		}
	}
	for _, g := range k.SecretGenerator {
		if err := r.addData("secretGenerator", g.Name, g.KvPairSources); err != nil {
			return err
		}
	}
	return r.helm(k)
}

// registrar records the paths named by one kustomization.
type registrar struct {
	f   *repoFS
	dir string // absolute directory of the kustomization, as kustomize sees it
	rel string // repository path of the kustomization
	doc *kyaml.Node
}

func (r registrar) target(p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(r.dir, p)
}

// localFile reports whether p names a regular file inside the repository.
func (r registrar) localFile(p string) bool {
	_, e, err := r.f.lookup(r.target(p), true)
	return err == nil && e.kind == kindFile
}

// add records entry p of field, refusing it when it is remote and remote bases are off.
func (r registrar) add(field, p string, remote bool) error {
	line := scalarLine(r.doc, p)
	if path.IsAbs(p) {
		return &Error{Path: r.rel, Line: line, Err: because(ErrOutsideRepo,
			"%s %q is an absolute path; write it relative to the kustomization, so that every checkout and commit renders alike", field, p)}
	}
	if remote {
		if !r.f.opts.AllowRemoteBases {
			return &Error{Path: r.rel, Line: line, Err: because(ErrRemote,
				"%s %q is remote, and remote bases are disabled (Options.AllowRemoteBases)", field, p)}
		}
		r.f.remote = true
		return nil
	}
	t := r.target(p)
	r.f.refs[t] = append(r.f.refs[t], reference{kust: r.rel, line: line, field: field, raw: p})
	return nil
}

// addData checks the literals of generator name and records its input files: they are
// data, never parsed as YAML. A bad literal is reported here, without its value, because
// kustomize's own error quotes every literal of the generator, secrets included.
func (r registrar) addData(field, name string, s types.KvPairSources) error {
	for _, l := range s.LiteralSources {
		if k, _, ok := strings.Cut(l, "="); !ok || k == "" {
			return &Error{Path: r.rel, Line: scalarLine(r.doc, l), Err: because(ErrInvalid,
				"%s %q: a literal is not key=value (value not shown)", field, name)}
		}
	}
	envs := append([]string(nil), s.EnvSources...)
	if s.EnvSource != "" {
		envs = append(envs, s.EnvSource)
	}
	for _, e := range envs {
		if err := r.add(field+" env file", e, isHTTP(e)); err != nil {
			return err
		}
		r.f.data = append(r.f.data, r.target(e))
		r.f.envFiles[r.target(e)] = true
	}
	for _, src := range s.FileSources {
		p := fileSourcePath(src)
		if err := r.add(field+" file", p, isHTTP(p)); err != nil {
			return err
		}
		// The entry's line is that of the whole "key=path" scalar.
		if rs := r.f.refs[r.target(p)]; len(rs) > 0 && rs[len(rs)-1].line == 0 {
			rs[len(rs)-1].line = scalarLine(r.doc, src)
		}
		r.f.data = append(r.f.data, r.target(p))
	}
	return nil
}

// fileSourcePath is the path of a generator file source, written "[key=]path".
func fileSourcePath(src string) string {
	if strings.Count(src, "=") == 1 {
		if _, p, _ := strings.Cut(src, "="); p != "" {
			return p
		}
	}
	return src
}

// helm refuses Helm charts unless allowed and possible, and records their values files.
func (r registrar) helm(k *types.Kustomization) error {
	if len(k.HelmCharts) == 0 && len(k.HelmChartInflationGenerator) == 0 {
		return nil
	}
	field := "helmCharts"
	if len(k.HelmCharts) == 0 {
		field = "helmChartInflationGenerator"
	}
	line := keyLine(r.doc, field)
	switch {
	case !r.f.opts.AllowHelm:
		return &Error{Path: r.rel, Line: line, Err: because(ErrHelm,
			"%s: inflating Helm charts is disabled (Options.AllowHelm)", field)}
	case !r.f.src.helmCapable():
		return &Error{Path: r.rel, Line: line, Err: because(ErrHelm,
			"%s: helm reads charts from disk, so this environment renders only from a directory (RenderDir), not from a commit", field)}
	}
	r.f.helm = true
	for _, c := range k.HelmCharts {
		for _, v := range append([]string{c.ValuesFile}, c.AdditionalValuesFiles...) {
			if v != "" {
				if err := r.add("helm values file", v, isHTTP(v)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// isHTTP reports whether kustomize would fetch p over HTTP.
func isHTTP(p string) bool {
	l := strings.ToLower(p)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// looksLikeRepo reports whether kustomize would take p for a git repository to clone:
// a URL scheme it clones from, the go-getter "git::" prefix, scp-like "user@host:path" or
// the "github.com/" shorthand. It errs on the side of remote, as kustomize's own parser
// accepts more than it can clone.
func looksLikeRepo(p string) bool {
	l := strings.ToLower(p)
	l = strings.TrimPrefix(l, "git::")
	for _, scheme := range []string{"https://", "http://", "ssh://", "file://", "git://"} {
		if strings.HasPrefix(l, scheme) {
			return true
		}
	}
	return scpUser.MatchString(strings.TrimPrefix(p, "git::")) ||
		strings.HasPrefix(l, "github.com/") || strings.HasPrefix(l, "github.com:")
}

// withOriginTracking adds originAnnotations to the kustomization's buildMetadata, which
// makes kustomize annotate every object with the file (or generator) it came from.
// Kustomize applies the top kustomization's buildMetadata to all its bases, so the
// environment's kustomization is enough. asked reports whether the user had asked for
// the annotations already, in which case they stay in the output.
func withOriginTracking(data []byte) (out []byte, asked bool, err error) {
	rn, err := kyaml.Parse(string(data))
	if err != nil {
		return nil, false, err
	}
	list, err := rn.Pipe(kyaml.LookupCreate(kyaml.SequenceNode, "buildMetadata"))
	if err != nil {
		return nil, false, err
	}
	for _, v := range list.Content() {
		if v.Value == types.OriginAnnotations {
			return data, true, nil
		}
	}
	list.YNode().Content = append(list.YNode().Content, kyaml.NewStringRNode(types.OriginAnnotations).YNode())
	s, err := rn.String()
	if err != nil {
		return nil, false, err
	}
	return []byte(s), false, nil
}
