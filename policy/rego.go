package policy

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/gitops-agent/gitops-agent/policies"
)

// RegoOptions say which rules of a Rego policy set are queried and how evaluation is spread.
type RegoOptions struct {
	// Namespaces are the Rego packages whose deny, violation and warn rules (and their
	// conftest-style variants such as deny_no_root) are queried, as conftest's --namespace.
	Namespaces []string
	// AllNamespaces queries every package that defines such rules, as conftest's
	// --all-namespaces; Namespaces is then ignored.
	AllNamespaces bool
	// Parallelism bounds the objects evaluated at once; 0 means runtime.GOMAXPROCS(0).
	Parallelism int
}

// DefaultRegoOptions query package main, as conftest does, on every available CPU.
func DefaultRegoOptions() RegoOptions {
	return RegoOptions{Namespaces: []string{"main"}}
}

func (o RegoOptions) parallelism() int {
	if o.Parallelism > 0 {
		return o.Parallelism
	}
	return runtime.GOMAXPROCS(0)
}

// RegoSet is a compiled Rego policy set: compiled once, evaluated against any number of
// objects, safe for concurrent use.
type RegoSet struct {
	compiler *ast.Compiler
	files    []string
	rules    []queriedRule
	// exceptions are the queried packages' conftest exception rules.
	exceptions []exceptionRule
	// queries[m] asks at once for the queried rules in mask m (see ruleMask and buildQuery),
	// compiled by queryCompiler.
	queries       []ast.Body
	queryCompiler ast.QueryCompiler
	opts          RegoOptions
	// needs says which parts of data.gitops the rules may read.
	needs dataNeeds
}

// LoadRegoDir compiles the .rego files under dir (recursively, skipping _test.rego files and
// hidden entries such as editor swap files or a mounted ConfigMap's ..data folders). Errors
// name the file and row.
func LoadRegoDir(ctx context.Context, dir string, opts RegoOptions) (*RegoSet, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("policy directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("policy directory %s is not a directory", dir)
	}
	return loadRego(ctx, os.DirFS(dir), func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }, opts)
}

// LoadRegoFS compiles the .rego files of fsys, as LoadRegoDir; errors name files by their path
// in fsys.
func LoadRegoFS(ctx context.Context, fsys fs.FS, opts RegoOptions) (*RegoSet, error) {
	return loadRego(ctx, fsys, func(name string) string { return name }, opts)
}

// LoadDefaultRego compiles the best-practice policies built into the binary (the repository's
// policies/ folder).
func LoadDefaultRego(ctx context.Context, opts RegoOptions) (*RegoSet, error) {
	return loadRego(ctx, policies.FS(), func(name string) string { return "policies/" + name }, opts)
}

func loadRego(ctx context.Context, fsys fs.FS, display func(string) string, opts RegoOptions) (*RegoSet, error) {
	set, _, err := loadRegoDigest(ctx, fsys, display, opts)
	return set, err
}

// loadRegoDigest is loadRego that also returns the digest of the sources it read, even when
// they do not compile.
func loadRegoDigest(ctx context.Context, fsys fs.FS, display func(string) string, opts RegoOptions) (*RegoSet, string, error) {
	sources, err := readRegoFS(ctx, fsys, display, false)
	if err != nil {
		return nil, "", err
	}
	digest := digestOf(sources)
	modules, err := parseRegoSources(sources)
	if err != nil {
		return nil, digest, err
	}
	compiler, err := compileRego(modules)
	if err != nil {
		return nil, digest, err
	}
	set, err := newRegoSet(compiler, modules, opts)
	return set, digest, err
}

// Files are the policy files of the set, sorted, as named in errors.
func (s *RegoSet) Files() []string { return slices.Clone(s.files) }

// Rules are the queried rules, sorted, as "data.main.deny".
func (s *RegoSet) Rules() []string {
	out := make([]string, len(s.rules))
	for i, r := range s.rules {
		out[i] = r.ref.String()
	}
	return out
}
