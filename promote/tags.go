package promote

import (
	"fmt"
	"strings"
	"time"
)

// Request asks for a commit to be promoted: the tag that names it and the commit it points to.
type Request struct {
	Tag    string `json:"tag"`
	Commit string `json:"commit"`
}

// ParseTag reports whether tag requests a promotion of env: `<env>/<anything>` (a release tag
// such as prod/2026-11-22.1) or exactly `<env>` (a moving tag).
func ParseTag(env, tag string) bool {
	if env == "" {
		return false
	}
	rest, ok := strings.CutPrefix(tag, env)
	return ok && (rest == "" || len(rest) > 1 && rest[0] == '/')
}

// Wanted returns the newest promotion request of env among tags (tag name → commit): the tag
// whose commit is newest by committer time, ties broken by the greater tag name. A tag whose
// commit time cannot be read is left out. It reports false when no tag requests env.
func Wanted(env string, tags map[string]string, commitTime func(commit string) (time.Time, error)) (Request, bool) {
	req, ok, _ := wanted(env, tags, commitTime)
	return req, ok
}

// wanted is Wanted that also returns why tags were left out, for the Promoter's log.
func wanted(env string, tags map[string]string, commitTime func(commit string) (time.Time, error)) (Request, bool, []error) {
	var (
		best     Request
		bestTime time.Time
		found    bool
		skipped  []error
	)
	for tag, commit := range tags {
		if !ParseTag(env, tag) {
			continue
		}
		t, err := commitTime(commit)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("tag %s: read commit %s: %w", tag, commit, err))
			continue
		}
		if !found || t.After(bestTime) || t.Equal(bestTime) && tag > best.Tag {
			best, bestTime, found = Request{Tag: tag, Commit: commit}, t, true
		}
	}
	return best, found, skipped
}

// shortCommit abbreviates a commit id for names and messages.
func shortCommit(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	return c
}
