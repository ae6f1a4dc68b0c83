package render

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// ReadDir lists the names in directory name, sorted.
func (f *repoFS) ReadDir(name string) ([]string, error) {
	abs := f.clean(name)
	if f.isClone(abs) {
		return filesys.MakeFsOnDisk().ReadDir(abs)
	}
	entries, err := f.list(abs)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.name
	}
	return names, nil
}

// list lists a repository directory, sorted by name, and records the listing as an input.
func (f *repoFS) list(abs string) ([]dirEntry, error) {
	real, e, err := f.lookup(abs, false)
	if err != nil {
		return nil, err
	}
	if e.kind != kindDir {
		return nil, &fs.PathError{Op: "readdir", Path: f.display(abs), Err: fmt.Errorf("is a %s", e.kind)}
	}
	entries, err := f.src.readDir(real)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", displayRel(real), err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	f.listings[real] = listingID(entries)
	return entries, nil
}

func listingID(entries []dirEntry) plumbing.Hash {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%d %s\n", e.kind, e.name)
	}
	return plumbing.ComputeHash(plumbing.BlobObject, []byte(b.String()))
}

// Glob returns the paths matching pattern, like filepath.Glob, leaving out hidden files
// unless the pattern names them, as kustomize's on-disk filesystem does.
func (f *repoFS) Glob(pattern string) ([]string, error) {
	abs := f.clean(pattern)
	matches, err := f.glob(abs)
	if err != nil {
		return nil, err
	}
	if filesys.IsHiddenFilePath(abs) {
		return matches, nil
	}
	return filesys.RemoveHiddenFiles(matches), nil
}

func (f *repoFS) glob(abs string) ([]string, error) {
	if !strings.ContainsAny(abs, `*?[\`) {
		if f.Exists(abs) {
			return []string{abs}, nil
		}
		return nil, nil
	}
	dir, file := path.Split(abs)
	dir = path.Clean(dir)
	dirs := []string{dir}
	if strings.ContainsAny(dir, `*?[\`) {
		var err error
		if dirs, err = f.glob(dir); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, d := range dirs {
		if !f.IsDir(d) {
			continue
		}
		names, err := f.ReadDir(d)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			ok, err := path.Match(file, n)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, path.Join(d, n))
			}
		}
	}
	return out, nil
}

// Walk walks the tree at name in lexical order, like filepath.Walk: symlinks are reported,
// not followed.
func (f *repoFS) Walk(name string, fn filepath.WalkFunc) error {
	abs := f.clean(name)
	if f.isClone(abs) {
		return filesys.MakeFsOnDisk().Walk(abs, fn)
	}
	real, e, err := f.lookup(abs, false)
	if err == nil && e.kind == kindMissing {
		err = &fs.PathError{Op: "lstat", Path: f.display(abs), Err: fs.ErrNotExist}
	}
	if err != nil {
		return fn(abs, nil, err)
	}
	err = f.walk(abs, real, e.kind, fn)
	if errors.Is(err, filepath.SkipDir) || errors.Is(err, filepath.SkipAll) {
		return nil
	}
	return err
}

func (f *repoFS) walk(abs, real string, k kind, fn filepath.WalkFunc) error {
	if err := fn(abs, fileInfo{name: path.Base(abs), kind: k}, nil); err != nil || k != kindDir {
		return err
	}
	entries, err := f.list(abs)
	if err != nil {
		return fn(abs, fileInfo{name: path.Base(abs), kind: k}, err)
	}
	for _, child := range entries {
		err := f.walk(path.Join(abs, child.name), joinRel(real, child.name), child.kind, fn)
		if errors.Is(err, filepath.SkipDir) {
			if child.kind == kindDir {
				continue
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fileInfo describes a repository entry to kustomize.
