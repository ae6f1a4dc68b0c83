package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// ReadFile reads a repository file and checks it: files kustomize parses as YAML must be
// UTF-8 text without duplicate keys; kustomizations are inspected (see inspectKustomization).
func (f *repoFS) ReadFile(name string) ([]byte, error) {
	abs := f.clean(name)
	if f.isClone(abs) {
		return f.readClone(abs)
	}
	real, e, err := f.lookup(abs, false)
	if err != nil {
		return nil, err
	}
	switch e.kind {
	case kindFile:
	case kindMissing:
		f.noteMiss(abs)
		return nil, &fs.PathError{Op: "open", Path: f.display(abs), Err: fs.ErrNotExist}
	case kindDir:
		return nil, &fs.PathError{Op: "read", Path: f.display(abs), Err: errIsDir}
	default:
		return nil, &fs.PathError{Op: "read", Path: f.display(abs), Err: errSpecial}
	}
	data, h, err := f.src.readFile(real, f.opts.MaxFileBytes)
	var size *sizeError
	if errors.As(err, &size) {
		return nil, f.fail(&Error{Path: real, Err: because(ErrTooLarge, "%s", size)})
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", real, err)
	}
	f.hashes[real] = h
	if isKustomizationName(path.Base(abs)) {
		return f.inspectKustomization(abs, real, data)
	}
	if f.isData(abs) {
		if f.envFiles[abs] {
			f.lastEnv = real
		}
		return data, nil
	}
	if err := f.checkManifest(real, data); err != nil {
		return nil, err
	}
	return data, nil
}

// checkManifest refuses a file kustomize would parse as YAML that is not text, is not YAML
// or has a duplicate key, naming the line.
func (f *repoFS) checkManifest(rel string, data []byte) error {
	if !isText(data) {
		return f.fail(&Error{Path: rel, Err: because(ErrNotText,
			"not UTF-8 text (binary, or another encoding), but kustomize reads it as YAML")})
	}
	if _, p := parseYAML(data); p != nil {
		return f.fail(yamlError(rel, p))
	}
	return nil
}

func yamlError(rel string, p *yamlProblem) *Error {
	msg := p.msg
	if errors.Is(p.kind, ErrMalformedYAML) {
		msg = "malformed YAML: " + msg
	}
	return &Error{Path: rel, Line: p.line, Err: because(p.kind, "%s", msg)}
}

func isKustomizationName(name string) bool {
	for _, k := range konfig.RecognizedKustomizationFileNames() {
		if name == k {
			return true
		}
	}
	return false
}

// noteMiss remembers a path kustomize did not find, to name it if the build fails. A
// directory in which all kustomization file names are missing is remembered as a base
// without kustomization.
func (f *repoFS) noteMiss(abs string) {
	if !isKustomizationName(path.Base(abs)) {
		f.misses = append(f.misses, miss{abs: abs})
		return
	}
	dir := path.Dir(abs)
	f.kustMisses[dir]++
	if f.kustMisses[dir] == len(konfig.RecognizedKustomizationFileNames()) {
		f.misses = append(f.misses, miss{abs: dir, noKust: true})
	}
}

// readClone reads a file of a remote base that kustomize cloned to disk.
func (f *repoFS) readClone(abs string) ([]byte, error) {
	file, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > f.opts.MaxFileBytes {
		return nil, f.fail(&Error{Path: abs, Err: because(ErrTooLarge, "%s", &sizeError{size: fi.Size(), limit: f.opts.MaxFileBytes})})
	}
	return io.ReadAll(io.LimitReader(file, f.opts.MaxFileBytes))
}

// Open returns a read-only file; see ReadFile.
func (f *repoFS) Open(name string) (filesys.File, error) {
	abs := f.clean(name)
	if f.IsDir(abs) {
		return &memFile{Reader: bytes.NewReader(nil), info: fileInfo{name: path.Base(abs), kind: kindDir}}, nil
	}
	data, err := f.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	return &memFile{Reader: bytes.NewReader(data), info: fileInfo{name: path.Base(abs), kind: kindFile, size: int64(len(data))}}, nil
}

type fileInfo struct {
	name string
	kind kind
	size int64
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.size }
func (i fileInfo) Mode() fs.FileMode {
	switch i.kind {
	case kindDir:
		return fs.ModeDir | 0o555
	case kindSymlink:
		return fs.ModeSymlink | 0o444
	default:
		return 0o444
	}
}
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.kind == kindDir }
func (i fileInfo) Sys() any           { return nil }

// memFile is a read-only file whose content has been read and checked already.
type memFile struct {
	*bytes.Reader
	info fileInfo
}

func (m *memFile) Write([]byte) (int, error)  { return 0, errReadOnly }
func (m *memFile) Close() error               { return nil }
func (m *memFile) Stat() (os.FileInfo, error) { return m.info, nil }
