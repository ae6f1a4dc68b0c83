package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// snapshot is the cache's refs both as stored (to compare with the remote's
// advertisement) and peeled to commits (to report).
type snapshot struct {
	raw  map[plumbing.ReferenceName]plumbing.Hash
	refs Refs
}

// openCache opens the bare clone and checks that it is whole. When it is
// missing or unusable it returns a nil repository and why, and the caller
// clones afresh.
func (g *Git) openCache() (*git.Repository, snapshot, string) {
	dir := g.repoDir()
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, snapshot{}, "no cache yet"
	}
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return nil, snapshot{}, fmt.Sprintf("cache %s unusable: %v", dir, err)
	}
	remote, err := repo.Remote(remoteName)
	if err != nil {
		return nil, snapshot{}, fmt.Sprintf("cache %s unusable: %v", dir, err)
	}
	if urls := remote.Config().URLs; len(urls) != 1 || urls[0] != g.opts.URL {
		return nil, snapshot{}, fmt.Sprintf("cache %s was cloned from another URL", dir)
	}
	snap, err := g.readSnapshot(repo)
	if err != nil {
		return nil, snapshot{}, fmt.Sprintf("cache %s unusable: %v", dir, err)
	}
	return repo, snap, ""
}

// readSnapshot reads the branch and the tags, reading the head commit, its
// tree and every tag's target on the way: a cache whose objects are missing
// or damaged fails here rather than later during rendering.
func (g *Git) readSnapshot(repo *git.Repository) (snapshot, error) {
	snap := snapshot{raw: map[plumbing.ReferenceName]plumbing.Hash{}, refs: Refs{Tags: map[string]string{}}}
	head, err := repo.Reference(g.branch, false)
	if err != nil {
		return snap, fmt.Errorf("branch %s: %w", g.opts.Branch, err)
	}
	commit, err := repo.CommitObject(head.Hash())
	if err != nil {
		return snap, fmt.Errorf("branch %s commit %s: %w", g.opts.Branch, head.Hash(), err)
	}
	if _, err := commit.Tree(); err != nil {
		return snap, fmt.Errorf("branch %s commit %s tree: %w", g.opts.Branch, head.Hash(), err)
	}
	snap.raw[head.Name()] = head.Hash()
	snap.refs.Head = head.Hash().String()

	tags, err := repo.Tags()
	if err != nil {
		return snap, fmt.Errorf("list tags: %w", err)
	}
	err = tags.ForEach(func(ref *plumbing.Reference) error {
		target, err := peel(repo, ref.Hash())
		if err != nil {
			return fmt.Errorf("tag %s: %w", ref.Name().Short(), err)
		}
		snap.raw[ref.Name()] = ref.Hash()
		snap.refs.Tags[ref.Name().Short()] = target.String()
		return nil
	})
	return snap, err
}

// peel follows annotated tags to the object they finally point to.
func peel(repo *git.Repository, h plumbing.Hash) (plumbing.Hash, error) {
	// Bounded: a tag chain longer than this is not something people make.
	for range 16 {
		obj, err := repo.Object(plumbing.AnyObject, h)
		if err != nil {
			return h, fmt.Errorf("object %s: %w", h, err)
		}
		tag, ok := obj.(*object.Tag)
		if !ok {
			return h, nil
		}
		h = tag.Target
	}
	return h, fmt.Errorf("object %s: tag chain too long", h)
}

// clone makes a fresh bare clone in a temporary directory beside the cache
// and renames it into place, so a clone killed half-way never looks like a
// cache: the cache path only ever holds a complete clone.
func (g *Git) clone(ctx context.Context, conn connection) (snapshot, error) {
	if err := os.MkdirAll(g.opts.Dir, 0o700); err != nil {
		return snapshot{}, fmt.Errorf("create cache directory: %w", err)
	}
	if err := g.removeStaleClones(); err != nil {
		return snapshot{}, err
	}
	tmp, err := os.MkdirTemp(g.opts.Dir, clonePattern)
	if err != nil {
		return snapshot{}, fmt.Errorf("create clone directory: %w", err)
	}
	snap, err := g.cloneInto(ctx, tmp, conn)
	if err == nil {
		err = g.replaceCache(tmp)
	}
	if err != nil {
		// Best effort: the next clone removes leftovers too.
		_ = os.RemoveAll(tmp)
		return snapshot{}, err
	}
	return snap, nil
}

func (g *Git) cloneInto(ctx context.Context, dir string, conn connection) (snapshot, error) {
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: g.branch},
	})
	if err != nil {
		return snapshot{}, fmt.Errorf("initialise clone in %s: %w", dir, err)
	}
	_, err = repo.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{g.opts.URL}, Fetch: g.refSpecs()})
	if err != nil {
		return snapshot{}, fmt.Errorf("initialise clone in %s: %w", dir, err)
	}
	if err := g.fetchInto(ctx, repo, conn); err != nil {
		return snapshot{}, err
	}
	snap, err := g.readSnapshot(repo)
	if err != nil {
		return snapshot{}, fmt.Errorf("fresh clone in %s is incomplete: %w", dir, err)
	}
	return snap, nil
}

func (g *Git) replaceCache(tmp string) error {
	dir := g.repoDir()
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove unusable cache: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("move fresh clone into place: %w", err)
	}
	return nil
}

func (g *Git) removeStaleClones() error {
	stale, err := filepath.Glob(filepath.Join(g.opts.Dir, clonePattern))
	if err != nil {
		return fmt.Errorf("find interrupted clones: %w", err)
	}
	for _, dir := range stale {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove interrupted clone: %w", err)
		}
	}
	return nil
}
