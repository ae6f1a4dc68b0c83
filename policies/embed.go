// Package policies holds gitops-agent's default best-practice rules, written in Rego in the
// conftest style (package main; deny, warn and violation rules), with a _test.rego file beside
// each rule. The binary carries them, tests included, so that `gitops-agent policy test` can run
// them without a checkout; the engine skips the tests when it compiles the set. README.md
// describes the rules, the result shape and the cross-object data.
package policies

import (
	"embed"
	"io/fs"
)

//go:embed *.rego
var files embed.FS

// FS returns the policy files, tests included, at the root of the file system.
func FS() fs.FS { return files }
