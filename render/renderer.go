package render

import (
	"context"
	"path"
	"path/filepath"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"sigs.k8s.io/kustomize/kyaml/openapi"
)

// openAPISchema guards kustomize's OpenAPI schema, which kyaml keeps in process-wide
// variables: a kustomization with a custom schema (the openapi field) replaces it for
// every build running at the time. Renders share it (read lock); a render that needs a
// custom schema runs alone (write lock) and restores the default afterwards. It is
// package-level because the state it guards is.
var openAPISchema sync.RWMutex

// Renderer builds environments and caches the results. It is safe for concurrent use;
// renders run in parallel, except a render with a custom OpenAPI schema (see
// openAPISchema).
type Renderer struct {
	opts  Options
	cache *cache // nil when disabled
	// gitMu serialises access to go-git object stores, which are not safe for concurrent
	// use. Only the object reads hold it, not the builds. Callers that use the same
	// *git.Repository elsewhere at the same time must serialise those uses themselves.
	gitMu sync.Mutex
}

// New returns a Renderer with the given options (zero fields take their defaults).
func New(opts Options) *Renderer {
	opts = opts.withDefaults()
	r := &Renderer{opts: opts}
	if opts.CacheEntries > 0 {
		r.cache = newCache(opts.CacheEntries)
	}
	return r
}

// Result is one rendered environment.
//
// Objects belong to the caller: each call returns fresh deep copies, so they may be
// mutated freely without affecting the cache or other callers.
type Result struct {
	// Path is the environment directory, repository-relative.
	Path string
	// Objects are the rendered objects in kustomize's output order, each with its source.
	Objects []Object
	// Files are the repository files the render read, sorted: a change elsewhere in the
	// repository cannot change this environment.
	Files []string
	// Key identifies the render's inputs (every path kustomize looked at and the content of
	// every file it read) and options. Equal keys mean equal objects, whichever source,
	// commit or checkout they came from.
	Key string
	// Cached reports that the objects came from the cache: no file the render depends on
	// has changed since an earlier render.
	Cached bool
}

// RenderDir builds the environment envPath (for example "environments/prod") of the
// repository checked out at repoRoot. Nothing outside repoRoot is read, symlinks
// included.
func (r *Renderer) RenderDir(ctx context.Context, repoRoot, envPath string) (*Result, error) {
	env, err := cleanEnv(envPath)
	if err != nil {
		return nil, err
	}
	t, err := openDirTree(repoRoot)
	if err != nil {
		return nil, err
	}
	defer t.close()
	return r.render(ctx, t, t.abs, env)
}

// RenderCommit builds the environment envPath as of commit, reading the commit's tree
// from repo's object store: no checkout is made, so repo may be bare and several commits
// may be rendered at once.
func (r *Renderer) RenderCommit(ctx context.Context, repo *git.Repository, commit plumbing.Hash, envPath string) (*Result, error) {
	env, err := cleanEnv(envPath)
	if err != nil {
		return nil, err
	}
	t, err := openCommitTree(&r.gitMu, repo, commit)
	if err != nil {
		return nil, err
	}
	return r.render(ctx, t, commitRoot, env)
}

func (r *Renderer) render(ctx context.Context, src tree, root, env string) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.cache != nil {
		if e := r.cache.lookup(ctx, src, env, r.opts); e != nil {
			return e.result(true), nil
		}
	}
	f, objs, err := r.build(ctx, src, root, env)
	if err != nil {
		return nil, err
	}
	e := newCacheEntry(f, objs, r.opts)
	if r.cache != nil && !f.remote && !f.helm {
		r.cache.add(e)
	}
	return e.result(false), nil
}

// build runs one render, again alone if it turns out to need a custom OpenAPI schema.
func (r *Renderer) build(ctx context.Context, src tree, root, env string) (*repoFS, []Object, error) {
	openAPISchema.RLock()
	f := newRepoFS(ctx, src, root, env, r.opts)
	objs, err := build(f, r.opts)
	openAPISchema.RUnlock()
	if err != errNeedExclusive {
		return f, objs, err
	}
	openAPISchema.Lock()
	defer openAPISchema.Unlock()
	defer openapi.ResetOpenAPI()
	f = newRepoFS(ctx, src, root, env, r.opts)
	f.exclusive = true
	objs, err = build(f, r.opts)
	return f, objs, err
}

// cleanEnv checks an environment path given by a caller.
func cleanEnv(p string) (string, error) {
	s := filepath.ToSlash(p)
	switch {
	case s == "":
		return "", &Error{Path: p, Err: because(ErrInvalid, "environment path is empty")}
	case path.IsAbs(s):
		return "", &Error{Path: p, Err: because(ErrInvalid, "environment path must be relative to the repository root")}
	}
	c := path.Clean(s)
	if escapes(c) {
		return "", &Error{Path: p, Err: because(ErrOutsideRepo, "environment path leaves the repository")}
	}
	if c == "." {
		return "", nil
	}
	return c, nil
}
