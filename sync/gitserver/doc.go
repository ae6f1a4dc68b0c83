// Package gitserver owns a real git smart-HTTP server and the git CLI helpers
// that build repositories for it.
//
// Server runs the system's `git http-backend` through net/http/cgi, so clients
// talk the same protocol (upload-pack and receive-pack over HTTP) they talk to
// GitHub or GitLab. It is used by tests and by `make run`; it is not meant to
// face the internet.
//
// Repo drives a working clone with the git CLI (commit, tag, push) so tests
// create history exactly as a developer would.
package gitserver
