package render

import (
	"fmt"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// kind is what a repository path holds, as far as rendering cares.
type kind uint8

const (
	kindMissing kind = iota
	kindFile
	kindDir
	kindSymlink
	// kindOther is a submodule, device, socket or pipe: nothing kustomize can read.
	kindOther
)

func (k kind) String() string {
	switch k {
	case kindMissing:
		return "missing"
	case kindFile:
		return "file"
	case kindDir:
		return "directory"
	case kindSymlink:
		return "symlink"
	default:
		return "special file"
	}
}

// entry is what lstat reports for a path.
type entry struct {
	kind kind
	// hash is the git object id of a file's content or a symlink's target when the tree
	// knows it without reading (a commit); zero otherwise (a directory on disk).
	hash plumbing.Hash
}

type dirEntry struct {
	name string
	kind kind
}

// tree is a read-only view of one version of a repository, addressed by clean,
// slash-separated, repository-relative paths ("" is the root). A tree never follows
// symlinks itself: repoFS resolves them component by component, so the repository
// boundary is enforced the same way for a directory on disk and for a commit.
type tree interface {
	lstat(rel string) (entry, error)
	// readFile returns the content of the regular file rel and its git blob id, refusing
	// with a *sizeError, before reading, a file above limit bytes.
	readFile(rel string, limit int64) ([]byte, plumbing.Hash, error)
	readlink(rel string) (string, error)
	readDir(rel string) ([]dirEntry, error)
	// helmCapable reports whether helm, which reads charts from disk, can see this tree.
	helmCapable() bool
}

// sizeError refuses a file above the size limit.
type sizeError struct {
	size, limit int64
}

func (e *sizeError) Error() string {
	return fmt.Sprintf("file is %d bytes, above the %d-byte limit (Options.MaxFileBytes)", e.size, e.limit)
}

// maxSymlinkHops bounds symlink resolution, as the kernel's ELOOP does.
const maxSymlinkHops = 40

// escapeError reports a symlink whose target leaves the repository.
type escapeError struct {
	link, target string
}

func (e *escapeError) Error() string {
	return fmt.Sprintf("%s is a symlink to %q, which points outside the repository", e.link, e.target)
}

// loopError reports symlinks that resolve to each other.
type loopError struct {
	link string
}

func (e *loopError) Error() string {
	return fmt.Sprintf("too many levels of symlinks at %s", e.link)
}

// splitRel splits a clean repository path into components; "" has none.
func splitRel(rel string) []string {
	if rel == "" {
		return nil
	}
	return strings.Split(rel, "/")
}

// joinRel joins repository path parts, keeping "" for the root.
func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// parentRel is the directory holding rel ("" for top-level entries).
func parentRel(rel string) string {
	d := path.Dir(rel)
	if d == "." {
		return ""
	}
	return d
}

// escapes reports whether a lexically clean relative path climbs above its start.
func escapes(rel string) bool {
	return rel == ".." || strings.HasPrefix(rel, "../")
}
