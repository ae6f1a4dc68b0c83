package render

import (
	"regexp"
	"strings"
)

// explain turns a kustomize failure into an *Error naming the file to edit.
func (f *repoFS) explain(err error) error {
	if ctxErr := f.ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	msg := err.Error()
	// The last thing kustomize failed to find, if a kustomization named it, is the cause:
	// kustomize stops at the first missing path.
	for i := len(f.misses) - 1; i >= 0; i-- {
		mi := f.misses[i]
		r, ok := f.refOf(mi.abs)
		if !ok {
			continue
		}
		if mi.noKust {
			return &Error{Path: r.kust, Line: r.line, Err: because(ErrNoKustomization,
				"%s %q: %s has no kustomization.yaml, kustomization.yml or Kustomization", r.field, r.raw, f.display(mi.abs))}
		}
		return &Error{Path: r.kust, Line: r.line, Err: because(ErrNotFound,
			"%s %q: %s does not exist", r.field, r.raw, f.display(mi.abs))}
	}
	if strings.Contains(msg, "env source files") {
		// Kustomize quotes the offending line, which may hold a secret.
		p := f.lastEnv
		if p == "" {
			p = f.env
		}
		return &Error{Path: p, Err: because(ErrInvalid,
			"env file: every line must be NAME=value with a valid variable name, in UTF-8 (kustomize's message is not shown: it quotes the file)")}
	}
	if m := cycleMessage.FindStringSubmatch(msg); m != nil {
		return f.cycle(m[1], m[2])
	}
	if strings.Contains(msg, "--enable-helm") {
		return &Error{Path: f.env, Err: because(ErrHelm, "a Helm chart generator is configured, and inflating Helm charts is disabled (Options.AllowHelm)")}
	}
	return &Error{Path: f.culprit(msg), Err: because(ErrKustomize, "%s", f.scrub(msg))}
}

var resourceFrom = regexp.MustCompile(`accumulating resources from '([^']+)'`)

// culprit names the file a kustomize message is about when it quotes a resource entry
// that only one kustomization has; otherwise the environment.
func (f *repoFS) culprit(msg string) string {
	m := resourceFrom.FindStringSubmatch(msg)
	if m == nil {
		return f.env
	}
	var target string
	for abs, rs := range f.refs {
		for _, r := range rs {
			if r.raw != m[1] {
				continue
			}
			if target != "" && target != abs {
				return f.env
			}
			target = abs
		}
	}
	if target == "" {
		return f.env
	}
	return f.display(target)
}

var cycleMessage = regexp.MustCompile(`cycle detected: candidate root '([^']*)' contains visited root '([^']*)'`)

// cycle explains kustomize's cycle error: a base that is, or contains, a directory
// already being built.
func (f *repoFS) cycle(candidate, visited string) error {
	detail := f.display(candidate) + " is already being built: bases include each other"
	if candidate != visited {
		detail = f.display(candidate) + " contains " + f.display(visited) +
			", which is being built: a base must not be a directory above the kustomization using it"
	}
	if r, ok := f.refOf(candidate); ok {
		return &Error{Path: r.kust, Line: r.line, Err: because(ErrCycle, "%s %q: %s", r.field, r.raw, detail)}
	}
	return &Error{Path: f.env, Err: because(ErrCycle, "%s", detail)}
}

// configDump matches kustomize quoting a generator's or transformer's configuration in an
// error, which for a secretGenerator holds secret values.
var configDump = regexp.MustCompile("(?s)with config: `.*?`")

var notDirectory = regexp.MustCompile(`': must build at directory: '[^']*': file is not directory`)

// scrub makes kustomize's message fit for a person and a log: repository paths relative,
// configuration dumps and anything after the first line (where kustomize quotes YAML)
// removed.
func (f *repoFS) scrub(msg string) string {
	msg = configDump.ReplaceAllString(msg, "with config: (not shown)")
	// Kustomize tries a resource as a file, then as a directory, and reports both; the
	// directory attempt is noise when the entry is a file.
	msg = notDirectory.ReplaceAllString(msg, "")
	msg = strings.ReplaceAll(msg, "accumulation err='", "")
	if first, _, cut := strings.Cut(msg, "\n"); cut {
		msg = strings.TrimSpace(first) + " (…)"
	}
	msg = strings.ReplaceAll(msg, strings.TrimSuffix(f.root, "/")+"/", "")
	return strings.ReplaceAll(msg, "'"+f.root+"'", "'.'")
}
