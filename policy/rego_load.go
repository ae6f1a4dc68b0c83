package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// regoSource is one policy file: its name as errors show it, and its text.
type regoSource struct {
	file string
	text string
}

// readRegoFS reads every .rego file of fsys (recursively, in lexical order), skipping hidden
// entries: editor swap files, version-control folders and the ..data folders of a mounted
// ConfigMap, whose files are also reachable through the top-level links.
func readRegoFS(ctx context.Context, fsys fs.FS, display func(string) string, withTests bool) ([]regoSource, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || path.Ext(name) != ".rego" {
			return nil
		}
		if !withTests && strings.HasSuffix(name, "_test.rego") {
			return nil
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("read policies %s: no .rego files", display("."))
	}
	sources := make([]regoSource, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		text, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read policy %s: %w", display(name), err)
		}
		sources = append(sources, regoSource{file: display(name), text: string(text)})
	}
	return sources, nil
}

// digestOf identifies a set of sources, so that a watcher can tell a real change from an
// editor touching files.
func digestOf(sources []regoSource) string {
	h := sha256.New()
	for _, s := range sources {
		fmt.Fprintf(h, "%d:%s%d:%s", len(s.file), s.file, len(s.text), s.text)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// parseRegoSources parses every source. Files are tried as Rego v1 first and, when that fails,
// as Rego v0, so that existing conftest policies written in the older syntax keep working; a
// file that is neither is reported with its v1 errors. Every file is parsed before returning,
// so that one error lists every broken file.
func parseRegoSources(sources []regoSource) (map[string]*ast.Module, error) {
	modules := make(map[string]*ast.Module, len(sources))
	var problems []RegoProblem
	for _, src := range sources {
		module, err := parseRegoModule(src.file, src.text)
		if err != nil {
			problems = append(problems, problemsOf(src.file, err)...)
			continue
		}
		modules[src.file] = module
	}
	if len(problems) > 0 {
		return nil, &RegoCompileError{Problems: problems}
	}
	return modules, nil
}

func parseRegoModule(file, src string) (*ast.Module, error) {
	module, err := ast.ParseModuleWithOpts(file, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err == nil {
		return module, nil
	}
	if v0, v0err := ast.ParseModuleWithOpts(file, src, ast.ParserOptions{RegoVersion: ast.RegoV0}); v0err == nil {
		return v0, nil
	}
	return nil, err
}

// problemsOf turns a parser or compiler error into problems with locations.
func problemsOf(file string, err error) []RegoProblem {
	var astErrs ast.Errors
	if errors.As(err, &astErrs) {
		out := make([]RegoProblem, 0, len(astErrs))
		for _, e := range astErrs {
			out = append(out, problemOf(e))
		}
		return out
	}
	var astErr *ast.Error
	if errors.As(err, &astErr) {
		return []RegoProblem{problemOf(astErr)}
	}
	return []RegoProblem{{File: file, Message: err.Error()}}
}

func problemOf(e *ast.Error) RegoProblem {
	p := RegoProblem{Code: e.Code, Message: e.Message}
	if e.Location != nil {
		p.File, p.Row, p.Col = e.Location.File, e.Location.Row, e.Location.Col
	}
	return p
}
