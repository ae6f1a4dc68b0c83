package render

import (
	"context"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"sigs.k8s.io/kustomize/api/konfig"
)

// EnvironmentsDirName is the directory whose subdirectories are the environments.
const EnvironmentsDirName = "environments"

// EnvironmentsDir lists the environments of the repository checked out at repoRoot: every
// directory environments/<name> holding a kustomization file, as repository paths
// ("environments/prod"), sorted. Finding none is an error (ErrNotFound without an
// environments directory, ErrEmpty without a kustomization in it), never an empty list
// that a caller could take for "nothing should be deployed".
func (r *Renderer) EnvironmentsDir(ctx context.Context, repoRoot string) ([]string, error) {
	t, err := openDirTree(repoRoot)
	if err != nil {
		return nil, err
	}
	defer t.close()
	return environments(newRepoFS(ctx, t, t.abs, "", r.opts))
}

// EnvironmentsCommit lists the environments as of commit, like EnvironmentsDir, reading
// the commit's tree from repo's object store.
func (r *Renderer) EnvironmentsCommit(ctx context.Context, repo *git.Repository, commit plumbing.Hash) ([]string, error) {
	t, err := openCommitTree(&r.gitMu, repo, commit)
	if err != nil {
		return nil, err
	}
	return environments(newRepoFS(ctx, t, commitRoot, "", r.opts))
}

func environments(f *repoFS) ([]string, error) {
	_, e, err := f.lookup(f.abs(EnvironmentsDirName), false)
	if err != nil {
		return nil, err
	}
	switch e.kind {
	case kindDir:
	case kindMissing:
		return nil, &Error{Path: EnvironmentsDirName, Err: because(ErrNotFound, "the repository has no environments directory")}
	default:
		return nil, &Error{Path: EnvironmentsDirName, Err: because(ErrInvalid, "is a %s, not a directory", e.kind)}
	}
	entries, err := f.list(f.abs(EnvironmentsDirName))
	if err != nil {
		return nil, err
	}
	var envs []string
	for _, de := range entries {
		env := EnvironmentsDirName + "/" + de.name
		_, e, err := f.lookup(f.abs(env), false)
		if err != nil {
			return nil, err
		}
		if e.kind != kindDir {
			continue
		}
		ok, err := hasKustomization(f, env)
		if err != nil {
			return nil, err
		}
		if ok {
			envs = append(envs, env)
		}
	}
	if len(envs) == 0 {
		return nil, &Error{Path: EnvironmentsDirName, Err: because(ErrEmpty, "no directory under environments/ has a kustomization file")}
	}
	return envs, nil
}

func hasKustomization(f *repoFS, dir string) (bool, error) {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		_, e, err := f.lookup(f.abs(dir+"/"+name), false)
		if err != nil {
			return false, err
		}
		if e.kind == kindFile {
			return true, nil
		}
	}
	return false, nil
}
