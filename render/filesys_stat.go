package render

import (
	"io/fs"
	"os"
	"path"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// IsDir reports whether name is a directory inside the repository.
func (f *repoFS) IsDir(name string) bool {
	abs := f.clean(name)
	if f.isClone(abs) {
		fi, err := os.Stat(abs)
		return err == nil && fi.IsDir()
	}
	_, e, err := f.lookup(abs, true)
	return err == nil && e.kind == kindDir
}

// Exists reports whether name exists inside the repository.
func (f *repoFS) Exists(name string) bool {
	abs := f.clean(name)
	if f.isClone(abs) {
		_, err := os.Stat(abs)
		return err == nil
	}
	_, e, err := f.lookup(abs, true)
	return err == nil && e.kind != kindMissing
}

// CleanedAbs splits name into its directory, symlinks resolved, and file name ("" when
// name is a directory), as kustomize's loader expects.
func (f *repoFS) CleanedAbs(name string) (filesys.ConfirmedDir, string, error) {
	abs := f.clean(name)
	if f.isClone(abs) {
		return filesys.MakeFsOnDisk().CleanedAbs(abs)
	}
	real, e, err := f.lookup(abs, false)
	if err != nil {
		return "", "", err
	}
	switch e.kind {
	case kindDir:
		return filesys.ConfirmedDir(f.abs(real)), "", nil
	case kindFile:
		return filesys.ConfirmedDir(f.abs(parentRel(real))), path.Base(real), nil
	case kindMissing:
		f.noteMiss(abs)
		return "", "", &fs.PathError{Op: "stat", Path: f.display(abs), Err: fs.ErrNotExist}
	default:
		return "", "", &fs.PathError{Op: "stat", Path: f.display(abs), Err: errSpecial}
	}
}
