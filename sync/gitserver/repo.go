package gitserver

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DefaultBranch is the branch NewRepo creates.
const DefaultBranch = "main"

// Repo is a bare repository under a Server's root plus a working clone that
// commits, tags and pushes to it with the git CLI.
type Repo struct {
	// Bare is the bare repository's directory.
	Bare string
	// Work is the working clone's directory. Edit files here directly or
	// through Commit.
	Work string
	// Branch is the branch Commit and Push work on.
	Branch string
}

// NewRepo creates the bare repository root/name (name such as "app.git" or
// "team/app.git") and a working clone in work. When from is not empty, the
// files under it become the first commit, which is pushed; otherwise the
// repository stays empty.
func NewRepo(ctx context.Context, root, name, work, from string) (*Repo, error) {
	r := &Repo{Bare: filepath.Join(root, name), Work: work, Branch: DefaultBranch}
	if err := os.MkdirAll(r.Bare, 0o755); err != nil {
		return nil, fmt.Errorf("create bare repository: %w", err)
	}
	if _, err := runGit(ctx, r.Bare, "init", "--quiet", "--bare", "--initial-branch="+r.Branch); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, fmt.Errorf("create working clone: %w", err)
	}
	if _, err := r.Git(ctx, "init", "--quiet", "--initial-branch="+r.Branch); err != nil {
		return nil, err
	}
	if _, err := r.Git(ctx, "remote", "add", "origin", r.Bare); err != nil {
		return nil, err
	}
	if from == "" {
		return r, nil
	}
	if err := os.CopyFS(work, os.DirFS(from)); err != nil {
		return nil, fmt.Errorf("copy %s into the working clone: %w", from, err)
	}
	if _, err := r.Commit(ctx, "initial commit from "+filepath.Base(from), nil); err != nil {
		return nil, err
	}
	if err := r.Push(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Commit writes files (slash-separated path → content) into the working
// clone, stages every change in it (including files removed with os.Remove)
// and commits. It returns the new commit id. Nothing is pushed.
func (r *Repo) Commit(ctx context.Context, message string, files map[string]string) (string, error) {
	for name, content := range files {
		path := filepath.Join(r.Work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", fmt.Errorf("commit: %w", err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return "", fmt.Errorf("commit: %w", err)
		}
	}
	if _, err := r.Git(ctx, "add", "--all"); err != nil {
		return "", err
	}
	if _, err := r.Git(ctx, "commit", "--quiet", "--allow-empty", "--message", message); err != nil {
		return "", err
	}
	return r.Git(ctx, "rev-parse", "HEAD")
}

// Tag creates or moves tag name to rev. A non-empty message makes an
// annotated tag; otherwise the tag is lightweight. Nothing is pushed.
func (r *Repo) Tag(ctx context.Context, name, rev, message string) error {
	args := []string{"tag", "--force"}
	if message != "" {
		args = append(args, "--annotate", "--message", message)
	}
	_, err := r.Git(ctx, append(args, name, rev)...)
	return err
}

// DeleteTag deletes tag name from the working clone; the next Push deletes
// it from the bare repository.
func (r *Repo) DeleteTag(ctx context.Context, name string) error {
	_, err := r.Git(ctx, "tag", "--delete", name)
	return err
}

// SetOrigin points the working clone at another URL of the same repository,
// for example the Server's HTTP URL so that Push goes through receive-pack.
func (r *Repo) SetOrigin(ctx context.Context, url string) error {
	_, err := r.Git(ctx, "remote", "set-url", "origin", url)
	return err
}

// Push makes origin's branch and tags exactly those of the working clone:
// the branch and moved tags are force-pushed and tags deleted locally are
// deleted on origin.
func (r *Repo) Push(ctx context.Context) error {
	branch := "refs/heads/" + r.Branch
	_, err := r.Git(ctx, "push", "--quiet", "--force", "--prune", "origin",
		branch+":"+branch, "refs/tags/*:refs/tags/*")
	return err
}

// Git runs git with args in the working clone and returns its trimmed
// standard output.
func (r *Repo) Git(ctx context.Context, args ...string) (string, error) {
	return runGit(ctx, r.Work, args...)
}

func runGit(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), isolatedGitEnv()...)
	cmd.Env = append(cmd.Env,
		"GIT_AUTHOR_NAME=gitops-agent test", "GIT_AUTHOR_EMAIL=test@gitops-agent.invalid",
		"GIT_COMMITTER_NAME=gitops-agent test", "GIT_COMMITTER_EMAIL=test@gitops-agent.invalid",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s in %s: %w: %s", strings.Join(redactURLs(args), " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// redactURLs drops the user information of URLs among args (SetOrigin may
// carry a token, as password or as user name) so it cannot reach an error.
func redactURLs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if u, err := url.Parse(a); err == nil && u.User != nil {
			u.User = nil
			out[i] = u.String()
		}
	}
	return out
}
