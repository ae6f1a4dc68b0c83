package render

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"
)

// dirTree is a repository checked out (or just written) on disk. All access goes through an
// os.Root, so even a directory swapped for a symlink between repoFS's checks and the read
// cannot lead outside the repository.
type dirTree struct {
	root *os.Root
	// abs is the repository root with symlinks resolved; kustomize sees the repository at
	// this path, so that helm (which reads charts from disk) finds them.
	abs string
}

func openDirTree(repoRoot string) (*dirTree, error) {
	abs, err := filepath.Abs(repoRoot)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", repoRoot, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", repoRoot, err)
	}
	root, err := os.OpenRoot(real)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", repoRoot, err)
	}
	return &dirTree{root: root, abs: real}, nil
}

func (t *dirTree) close() error { return t.root.Close() }

func osRel(rel string) string {
	if rel == "" {
		return "."
	}
	return filepath.FromSlash(rel)
}

func (t *dirTree) lstat(rel string) (entry, error) {
	fi, err := t.root.Lstat(osRel(rel))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return entry{kind: kindMissing}, nil
		}
		return entry{}, err
	}
	return entry{kind: kindOf(fi.Mode())}, nil
}

func kindOf(m fs.FileMode) kind {
	switch {
	case m.IsRegular():
		return kindFile
	case m.IsDir():
		return kindDir
	case m&fs.ModeSymlink != 0:
		return kindSymlink
	default:
		return kindOther
	}
}

func (t *dirTree) readFile(rel string, limit int64) ([]byte, plumbing.Hash, error) {
	f, err := t.root.Open(osRel(rel))
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	if !fi.Mode().IsRegular() {
		return nil, plumbing.ZeroHash, fmt.Errorf("%s is not a regular file", rel)
	}
	if fi.Size() > limit {
		return nil, plumbing.ZeroHash, &sizeError{size: fi.Size(), limit: limit}
	}
	// The file may grow between Stat and Read; never read past the limit.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	if int64(len(data)) > limit {
		return nil, plumbing.ZeroHash, &sizeError{size: int64(len(data)), limit: limit}
	}
	return data, plumbing.ComputeHash(plumbing.BlobObject, data), nil
}

func (t *dirTree) readlink(rel string) (string, error) {
	target, err := t.root.Readlink(osRel(rel))
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(target), nil
}

func (t *dirTree) readDir(rel string) ([]dirEntry, error) {
	f, err := t.root.Open(osRel(rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	des, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	out := make([]dirEntry, 0, len(des))
	for _, de := range des {
		out = append(out, dirEntry{name: de.Name(), kind: kindOf(de.Type())})
	}
	return out, nil
}

func (t *dirTree) helmCapable() bool { return true }
