package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

var _ filesys.FileSystem = (*repoFS)(nil)

var (
	errIsDir   = errors.New("is a directory")
	errSpecial = errors.New("not a regular file or directory")
)

// commitRoot is where kustomize sees a commit's tree. It is virtual: nothing is read from
// the disk under it.
const commitRoot = "/repo"

// repoFS is the filesystem kustomize sees during one render: a tree, confined to the
// repository root, read-only. It also keeps what the render needs besides kustomize's
// output: every path it looked at (the cache key), which kustomization named which path
// (so errors name the file to edit), and the first refusal (kustomize reports some read
// failures only as "missing kustomization", so the real reason is kept here).
//
// A repoFS serves one render on one goroutine; it is not safe for concurrent use.
type repoFS struct {
	ctx  context.Context
	src  tree
	opts Options
	// root is the absolute path under which kustomize sees the repository.
	root string
	// env is the environment directory being built, repository-relative.
	env string
	// rootKust is the environment's kustomization file (resolved), set before the build.
	rootKust string
	// exclusive is set when this render holds openAPISchema exclusively, which a
	// kustomization with a custom OpenAPI schema needs.
	exclusive bool
	// cloneDir is the prefix of kustomize's temporary clones of remote bases, which are
	// read from disk; empty unless remote bases are allowed.
	cloneDir string

	// stats memoises lstat by repository path; with hashes it is the render's input set.
	stats map[string]entry
	// hashes holds the content id of every file read and the target id of every symlink.
	hashes map[string]plumbing.Hash
	// listings holds the id of every directory listing taken.
	listings map[string]plumbing.Hash

	refs       map[string][]reference // by absolute target path
	kusts      map[string]bool        // kustomizations already inspected
	data       []string               // absolute paths of generator inputs
	envFiles   map[string]bool        // absolute paths of generator env files
	lastEnv    string                 // the env file read last, repository path
	misses     []miss                 // in the order kustomize hit them
	kustMisses map[string]int         // kustomization file names found missing, by directory

	// refusal is the first failure repoFS decided itself (a refused path, a bad file,
	// cancellation): the render's error, whatever kustomize makes of it.
	refusal    error
	keepOrigin bool // the environment asked for origin annotations itself
	remote     bool // remote content was used: the render is not cacheable
	helm       bool // Helm charts were inflated: the render is not cacheable
}

// reference is one path named in a kustomization.
type reference struct {
	kust  string // repository path of the kustomization
	line  int
	field string // what the path is, as a person says it: "resource", "patch", ...
	raw   string // as written
}

// miss is a path kustomize looked for and did not find.
type miss struct {
	abs string
	// noKust is set when abs is a directory without a kustomization file.
	noKust bool
}

func newRepoFS(ctx context.Context, src tree, root, env string, opts Options) *repoFS {
	f := &repoFS{
		ctx:        ctx,
		src:        src,
		opts:       opts,
		root:       root,
		env:        env,
		stats:      map[string]entry{},
		hashes:     map[string]plumbing.Hash{},
		listings:   map[string]plumbing.Hash{},
		refs:       map[string][]reference{},
		kusts:      map[string]bool{},
		kustMisses: map[string]int{},
		envFiles:   map[string]bool{},
	}
	if opts.AllowRemoteBases {
		f.cloneDir = kustomizeCloneDir()
	}
	return f
}

// kustomizeCloneDir is the prefix of the directories kustomize clones remote bases into
// (os.MkdirTemp("", "kustomize-"), symlinks resolved).
func kustomizeCloneDir() string {
	tmp, err := filepath.EvalSymlinks(os.TempDir())
	if err != nil {
		tmp = os.TempDir()
	}
	return filepath.Join(tmp, "kustomize-")
}

// abs returns the absolute path under which kustomize sees repository path rel.
func (f *repoFS) abs(rel string) string {
	if rel == "" {
		return f.root
	}
	return f.root + "/" + rel
}

// relOf maps an absolute path kustomize uses back to the repository, if it is inside.
func (f *repoFS) relOf(abs string) (string, bool) {
	if abs == f.root {
		return "", true
	}
	prefix := strings.TrimSuffix(f.root, "/") + "/"
	if !strings.HasPrefix(abs, prefix) {
		return "", false
	}
	return abs[len(prefix):], true
}

// clean makes a path kustomize passes absolute and clean; relative paths are taken
// relative to the repository root.
func (f *repoFS) clean(name string) string {
	name = filepath.ToSlash(name)
	if !path.IsAbs(name) {
		name = f.root + "/" + name
	}
	return path.Clean(name)
}

// display names an absolute path for a person: repository-relative when inside.
func (f *repoFS) display(abs string) string {
	if rel, ok := f.relOf(abs); ok {
		if rel == "" {
			return "."
		}
		return rel
	}
	return abs
}

func (f *repoFS) isClone(abs string) bool {
	return f.cloneDir != "" && strings.HasPrefix(abs, f.cloneDir)
}

// stat is the memoised lstat that records the render's inputs.
func (f *repoFS) stat(rel string) (entry, error) {
	if e, ok := f.stats[rel]; ok {
		return e, nil
	}
	e, err := f.src.lstat(rel)
	if err != nil {
		return entry{}, fmt.Errorf("%s: %w", displayRel(rel), err)
	}
	f.stats[rel] = e
	return e, nil
}

func displayRel(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}

func (f *repoFS) link(rel string) (string, error) {
	target, err := f.src.readlink(rel)
	if err != nil {
		return "", fmt.Errorf("%s: %w", rel, err)
	}
	f.hashes[rel] = plumbing.ComputeHash(plumbing.BlobObject, []byte(target))
	return target, nil
}

// resolve follows symlinks through rel, component by component, and returns the real
// repository path and what it holds. Resolution stops at the first missing component
// (kindMissing); a symlink whose target is absolute or climbs out of the repository is an
// *escapeError: absolute targets are refused even when they happen to point into a
// checkout, so that a directory and its commit render alike.
func (f *repoFS) resolve(rel string) (string, entry, error) {
	pending := splitRel(rel)
	cur := ""
	hops := 0
	for len(pending) > 0 {
		next := joinRel(cur, pending[0])
		pending = pending[1:]
		e, err := f.stat(next)
		if err != nil {
			return "", entry{}, err
		}
		switch e.kind {
		case kindDir:
			cur = next
		case kindSymlink:
			hops++
			if hops > maxSymlinkHops {
				return "", entry{}, &loopError{link: next}
			}
			target, err := f.link(next)
			if err != nil {
				return "", entry{}, err
			}
			if path.IsAbs(target) {
				return "", entry{}, &escapeError{link: next, target: target}
			}
			joined := path.Join(cur, target)
			if escapes(joined) {
				return "", entry{}, &escapeError{link: next, target: target}
			}
			if joined == "." {
				joined = ""
			}
			pending = append(splitRel(joined), pending...)
			cur = ""
		default:
			if len(pending) > 0 {
				// A file (or nothing) where a directory is needed.
				return joinRel(next, strings.Join(pending, "/")), entry{kind: kindMissing}, nil
			}
			return next, e, nil
		}
	}
	return cur, entry{kind: kindDir}, nil
}

// lookup maps a path kustomize uses to the real repository path and what it holds. Paths
// outside the repository and escaping symlinks are refused; the refusal is recorded as the
// render's failure unless quiet (kustomize's existence probes must not fail a render on
// their own).
func (f *repoFS) lookup(name string, quiet bool) (string, entry, error) {
	if err := f.ctx.Err(); err != nil {
		return "", entry{}, f.fail(err)
	}
	abs := f.clean(name)
	rel, ok := f.relOf(abs)
	if !ok {
		return "", entry{}, f.failUnless(quiet, f.refused(abs, ErrOutsideRepo, "resolves to a path outside the repository"))
	}
	real, e, err := f.resolve(rel)
	var esc *escapeError
	var loop *loopError
	switch {
	case errors.As(err, &esc):
		return "", entry{}, f.failUnless(quiet, f.refused(abs, ErrOutsideRepo, esc.Error()))
	case errors.As(err, &loop):
		return "", entry{}, f.failUnless(quiet, f.refused(abs, ErrCycle, loop.Error()))
	case err != nil:
		return "", entry{}, err
	}
	return real, e, nil
}

// refused builds the error for a refused path, attributed to the kustomization that named
// it when known.
func (f *repoFS) refused(abs string, kind error, detail string) *Error {
	if r, ok := f.refOf(abs); ok {
		return &Error{Path: r.kust, Line: r.line, Err: because(kind, "%s %q: %s", r.field, r.raw, detail)}
	}
	return &Error{Path: f.display(abs), Err: because(kind, "%s", detail)}
}

// fail records err as the render's failure if it is the first, and returns it.
func (f *repoFS) fail(err error) error {
	if f.refusal == nil {
		f.refusal = err
	}
	return err
}

func (f *repoFS) failUnless(quiet bool, err error) error {
	if quiet {
		return err
	}
	return f.fail(err)
}

// refOf returns the last reference to abs, if any kustomization named it.
func (f *repoFS) refOf(abs string) (reference, bool) {
	rs := f.refs[abs]
	if len(rs) == 0 {
		return reference{}, false
	}
	return rs[len(rs)-1], true
}

// isData reports whether abs is a generator input: read as bytes, not as YAML.
func (f *repoFS) isData(abs string) bool {
	for _, d := range f.data {
		if abs == d || strings.HasPrefix(abs, d+"/") {
			return true
		}
	}
	return false
}
