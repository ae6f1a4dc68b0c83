package render

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// maxSymlinkTarget bounds how much of a symlink blob is read; real targets are short.
const maxSymlinkTarget = 4096

// commitTree reads one commit's tree straight from the object store: no checkout, so it
// works on a bare repository and many commits can be open at once.
//
// go-git's object storage is not safe for concurrent use (packfile reads seek a shared
// file), and neither are decoded Tree values (their lookup map is built lazily), so every
// access holds mu, which the Renderer shares between all commit trees it opens.
type commitTree struct {
	mu    *sync.Mutex
	store storer.EncodedObjectStorer
	// trees memoises decoded directories by repository path.
	trees map[string]*object.Tree
}

func openCommitTree(mu *sync.Mutex, repo *git.Repository, commit plumbing.Hash) (*commitTree, error) {
	mu.Lock()
	defer mu.Unlock()
	c, err := repo.CommitObject(commit)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	root, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("commit %s: tree: %w", commit, err)
	}
	return &commitTree{mu: mu, store: repo.Storer, trees: map[string]*object.Tree{"": root}}, nil
}

// dir returns the decoded directory rel, or nil when rel is not a directory. mu is held.
func (t *commitTree) dir(rel string) (*object.Tree, error) {
	if tr, ok := t.trees[rel]; ok {
		return tr, nil
	}
	parent, err := t.dir(parentRel(rel))
	if err != nil || parent == nil {
		return nil, err
	}
	e, err := t.find(parent, rel)
	if err != nil || e == nil || e.Mode != filemode.Dir {
		return nil, err
	}
	tr, err := object.GetTree(t.store, e.Hash)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	t.trees[rel] = tr
	return tr, nil
}

// find looks up rel's last component in its parent directory; nil when absent.
func (t *commitTree) find(parent *object.Tree, rel string) (*object.TreeEntry, error) {
	name := rel
	if p := parentRel(rel); p != "" {
		name = rel[len(p)+1:]
	}
	e, err := parent.FindEntry(name)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return nil, nil
	}
	return e, err
}

// entryAt returns rel's tree entry, or nil when rel does not exist. mu is held.
func (t *commitTree) entryAt(rel string) (*object.TreeEntry, error) {
	parent, err := t.dir(parentRel(rel))
	if err != nil || parent == nil {
		return nil, err
	}
	return t.find(parent, rel)
}

func (t *commitTree) lstat(rel string) (entry, error) {
	if rel == "" {
		return entry{kind: kindDir}, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, err := t.entryAt(rel)
	if err != nil || e == nil {
		return entry{kind: kindMissing}, err
	}
	return entry{kind: kindOfMode(e.Mode), hash: e.Hash}, nil
}

func kindOfMode(m filemode.FileMode) kind {
	switch m {
	case filemode.Regular, filemode.Executable, filemode.Deprecated:
		return kindFile
	case filemode.Dir:
		return kindDir
	case filemode.Symlink:
		return kindSymlink
	default:
		return kindOther
	}
}

// readBlob reads blob h, refusing it before reading when it is above limit. mu is held.
func (t *commitTree) readBlob(h plumbing.Hash, limit int64) ([]byte, error) {
	b, err := object.GetBlob(t.store, h)
	if err != nil {
		return nil, err
	}
	if b.Size > limit {
		return nil, &sizeError{size: b.Size, limit: limit}
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, limit))
}

func (t *commitTree) readFile(rel string, limit int64) ([]byte, plumbing.Hash, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, err := t.entryAt(rel)
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	if e == nil || kindOfMode(e.Mode) != kindFile {
		return nil, plumbing.ZeroHash, fmt.Errorf("%s is not a regular file", rel)
	}
	data, err := t.readBlob(e.Hash, limit)
	return data, e.Hash, err
}

func (t *commitTree) readlink(rel string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, err := t.entryAt(rel)
	if err != nil {
		return "", err
	}
	if e == nil || e.Mode != filemode.Symlink {
		return "", fmt.Errorf("%s is not a symlink", rel)
	}
	data, err := t.readBlob(e.Hash, maxSymlinkTarget)
	if err != nil {
		return "", fmt.Errorf("%s: symlink target: %w", rel, err)
	}
	return string(data), nil
}

func (t *commitTree) readDir(rel string) ([]dirEntry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, err := t.dir(rel)
	if err != nil {
		return nil, err
	}
	if tr == nil {
		return nil, fmt.Errorf("%s is not a directory", rel)
	}
	out := make([]dirEntry, 0, len(tr.Entries))
	for _, e := range tr.Entries {
		out = append(out, dirEntry{name: e.Name, kind: kindOfMode(e.Mode)})
	}
	return out, nil
}

// helmCapable is false: helm reads charts from disk and a commit has no working tree.
func (t *commitTree) helmCapable() bool { return false }
