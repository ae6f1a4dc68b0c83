package render

import (
	"errors"
	"fmt"
	"strconv"
)

// Kinds of render failure. Every error a render returns is an *Error whose Err wraps exactly
// one of these, so callers branch with errors.Is and people read Error's message.
var (
	// ErrNoKustomization: a directory that is built (the environment, or a base it names) has
	// no kustomization.yaml, kustomization.yml or Kustomization.
	ErrNoKustomization = errors.New("no kustomization")
	// ErrEmpty: the environment renders no objects. Applying an empty render with pruning
	// would delete everything, so it is never a success.
	ErrEmpty = errors.New("empty render")
	// ErrOutsideRepo: a path, directly or through a symlink, leaves the repository.
	ErrOutsideRepo = errors.New("outside the repository")
	// ErrRemote: a kustomization names a remote base or file while Options.AllowRemoteBases
	// is off.
	ErrRemote = errors.New("remote bases disabled")
	// ErrHelm: a kustomization inflates a Helm chart while Options.AllowHelm is off, or the
	// source cannot run Helm (a commit has no working tree for helm to read).
	ErrHelm = errors.New("helm charts disabled")
	// ErrNotFound: a file or directory a kustomization names does not exist.
	ErrNotFound = errors.New("not found")
	// ErrTooLarge: a file is larger than Options.MaxFileBytes.
	ErrTooLarge = errors.New("file too large")
	// ErrNotText: a file read as YAML is binary or not UTF-8.
	ErrNotText = errors.New("not UTF-8 text")
	// ErrMalformedYAML: a file does not parse as YAML.
	ErrMalformedYAML = errors.New("malformed YAML")
	// ErrDuplicateKey: a YAML mapping has the same key twice; YAML parsers disagree on
	// which value wins, so it is refused rather than guessed.
	ErrDuplicateKey = errors.New("duplicate mapping key")
	// ErrCycle: bases include each other, or symlinks loop.
	ErrCycle = errors.New("cycle")
	// ErrInvalid: a kustomization or environment path is not valid.
	ErrInvalid = errors.New("invalid")
	// ErrKustomize: kustomize rejected the build for a reason not classified above; the
	// message is kustomize's, with repository paths made relative.
	ErrKustomize = errors.New("kustomize build failed")
)

// Error is a render failure located in the repository.
type Error struct {
	// Path is the repository-relative, slash-separated file (or directory) to edit: the
	// malformed manifest, or the kustomization that asked for a refused or missing path.
	Path string
	// Line is the 1-based line in Path, or 0 when unknown.
	Line int
	// Err wraps one of the Err* kinds above.
	Err error
}

func (e *Error) Error() string {
	loc := e.Path
	if loc == "" {
		loc = "."
	}
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	return loc + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// reason is an error kind with a message of its own, so that Error reads as a sentence
// ("resource "x" does not exist") while errors.Is still finds the kind.
type reason struct {
	kind error
	msg  string
}

func (r *reason) Error() string { return r.msg }
func (r *reason) Unwrap() error { return r.kind }

func because(kind error, format string, args ...any) error {
	return &reason{kind: kind, msg: fmt.Sprintf(format, args...)}
}
