package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Export writes the files of commit (a full commit id, as found in Refs) from
// the cache into dst, which must be empty or not exist. Submodules are
// skipped; a symbolic link that points outside the tree is refused, so a
// repository cannot make the renderer read the agent's own files.
func (g *Git) Export(ctx context.Context, commit, dst string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.export(ctx, commit, dst); err != nil {
		if ctx.Err() == nil {
			// Make the next Fetch check the cache, and re-clone it if
			// it is damaged.
			g.lastRaw = nil
		}
		return fmt.Errorf("git source %s: export %s to %s: %w", g.opts.URL, commit, dst, err)
	}
	return nil
}

func (g *Git) export(ctx context.Context, commit, dst string) error {
	if !plumbing.IsHash(commit) {
		return errors.New("not a full commit id")
	}
	if entries, err := os.ReadDir(dst); err == nil && len(entries) > 0 {
		return errors.New("destination is not empty")
	}
	repo, err := git.PlainOpen(g.repoDir())
	if err != nil {
		return fmt.Errorf("open cache (run Fetch first): %w", err)
	}
	c, err := repo.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return err
	}
	tree, err := c.Tree()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := exportEntry(repo, dst, name, entry); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

func exportEntry(repo *git.Repository, dst, name string, entry object.TreeEntry) error {
	rel := filepath.FromSlash(name)
	if !filepath.IsLocal(rel) {
		return errors.New("path escapes the tree")
	}
	path := filepath.Join(dst, rel)
	switch entry.Mode {
	case filemode.Dir:
		return os.MkdirAll(path, 0o755)
	case filemode.Submodule:
		return nil
	case filemode.Symlink:
		target, err := readBlob(repo, entry.Hash)
		if err != nil {
			return err
		}
		if filepath.IsAbs(string(target)) || !filepath.IsLocal(filepath.Join(filepath.Dir(rel), string(target))) {
			return fmt.Errorf("symbolic link to %q points outside the repository", target)
		}
		return os.Symlink(string(target), path)
	case filemode.Regular, filemode.Deprecated, filemode.Executable:
		data, err := readBlob(repo, entry.Hash)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		perm := os.FileMode(0o644)
		if entry.Mode == filemode.Executable {
			perm = 0o755
		}
		return os.WriteFile(path, data, perm)
	default:
		return fmt.Errorf("unsupported file mode %s", entry.Mode)
	}
}

func readBlob(repo *git.Repository, h plumbing.Hash) ([]byte, error) {
	blob, err := repo.BlobObject(h)
	if err != nil {
		return nil, err
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
