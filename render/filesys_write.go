package render

import (
	"errors"
	"io/fs"
	"os"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The kustomize filesys.FileSystem methods that would write: rendering never does.

var errReadOnly = errors.New("the repository is read-only while rendering")

func (f *repoFS) readOnly(op, name string) error {
	return &fs.PathError{Op: op, Path: f.display(f.clean(name)), Err: errReadOnly}
}

// Create refuses: rendering never writes to the repository.
func (f *repoFS) Create(name string) (filesys.File, error) { return nil, f.readOnly("create", name) }

// Mkdir refuses: rendering never writes to the repository.
func (f *repoFS) Mkdir(name string) error { return f.readOnly("mkdir", name) }

// MkdirAll refuses: rendering never writes to the repository.
func (f *repoFS) MkdirAll(name string) error { return f.readOnly("mkdir", name) }

// WriteFile refuses: rendering never writes to the repository.
func (f *repoFS) WriteFile(name string, _ []byte) error { return f.readOnly("write", name) }

// RemoveAll removes only kustomize's own temporary clones of remote bases.
func (f *repoFS) RemoveAll(name string) error {
	if abs := f.clean(name); f.isClone(abs) {
		return os.RemoveAll(abs)
	}
	return f.readOnly("remove", name)
}
