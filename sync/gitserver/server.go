package gitserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Options configure a Server.
type Options struct {
	// Username and Token, when Token is set, require HTTP basic auth on every
	// request. Username may be empty to accept any user name with the token.
	Username string
	Token    string
	// Stderr receives git http-backend's diagnostics. Nil discards them.
	Stderr io.Writer
}

// Server serves every bare repository under a root directory over git smart
// HTTP: a repository at <root>/team/app.git is at <base URL>/team/app.git.
// Pushes over HTTP are enabled.
type Server struct {
	root    string
	opts    Options
	backend *cgi.Handler
}

// New returns a Server for the bare repositories under root. It fails when
// root is not a directory or git http-backend cannot be found.
func New(ctx context.Context, root string, opts Options) (*Server, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("git server root %s: %w", root, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("git server root: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("git server root %s is not a directory", abs)
	}
	backend, err := httpBackendPath(ctx)
	if err != nil {
		return nil, err
	}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	return &Server{
		root: abs,
		opts: opts,
		backend: &cgi.Handler{
			Path: backend,
			Root: "/",
			Env: append(isolatedGitEnv(),
				"GIT_PROJECT_ROOT="+abs,
				"GIT_HTTP_EXPORT_ALL=1",
				// http-backend refuses receive-pack unless REMOTE_USER is
				// set or http.receivepack is true; tests push anonymously.
				"GIT_CONFIG_COUNT=1",
				"GIT_CONFIG_KEY_0=http.receivepack",
				"GIT_CONFIG_VALUE_0=true",
			),
			InheritEnv: []string{"PATH"},
			Stderr:     stderr,
		},
	}, nil
}

// Root is the directory holding the served repositories.
func (s *Server) Root() string { return s.root }

// ServeHTTP checks the token, if one is configured, and hands the request to
// git http-backend.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.Token != "" && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="gitserver"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	s.backend.ServeHTTP(w, r)
}

func (s *Server) authorized(r *http.Request) bool {
	user, token, ok := r.BasicAuth()
	if !ok {
		return false
	}
	// Comparing digests keeps the comparison constant-time whatever the
	// lengths are.
	want := sha256.Sum256([]byte(s.opts.Token))
	got := sha256.Sum256([]byte(token))
	tokenOK := subtle.ConstantTimeCompare(want[:], got[:]) == 1
	userOK := s.opts.Username == "" || user == s.opts.Username
	return tokenOK && userOK
}

// httpBackendPath finds git-http-backend in git's exec path, where git keeps
// its helper programs (it is not on PATH).
func httpBackendPath(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "git", "--exec-path").Output()
	if err != nil {
		return "", fmt.Errorf("find git http-backend: run git --exec-path: %w (is git installed and on PATH?)", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("find git http-backend: %w (install the full git package, which ships git-http-backend)", err)
	}
	return path, nil
}

// isolatedGitEnv keeps the user's and the system's git configuration out of
// every git process we start, so results do not depend on the machine.
func isolatedGitEnv() []string {
	return []string{
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
	}
}
