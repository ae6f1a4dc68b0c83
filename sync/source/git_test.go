package source_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitops-agent/gitops-agent/sync/source"
)

func TestGitFetchFollowsBranchAndTags(t *testing.T) {
	r := newRemote(t, remoteOptions{})
	g := newGit(t, source.GitOptions{URL: r.URL})
	ctx := t.Context()

	first := r.git(t, "rev-parse", "HEAD")
	ch, err := g.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := source.Change{After: source.Refs{Head: first}, Cloned: true, CloneReason: "no cache yet"}
	if diff := cmp.Diff(want, ch, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("first Fetch (-want +got):\n%s", diff)
	}
	prev := ch.After

	tags := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	steps := []struct {
		name string
		// act changes the remote and returns the Change Fetch must report.
		act func(t *testing.T) source.Change
		// wantRequests, when not zero, is the exact number of HTTP requests
		// the Fetch may make.
		wantRequests int64
	}{
		{
			name:         "unchanged repository costs one round trip",
			act:          func(t *testing.T) source.Change { return source.Change{Before: prev, After: prev} },
			wantRequests: 1,
		},
		{
			name: "new commit on the branch",
			act: func(t *testing.T) source.Change {
				head := r.commitAndPush(t, map[string]string{"apps/web/configmap.yaml": "changed: true\n"})
				return source.Change{Before: prev, After: source.Refs{Head: head}}
			},
		},
		{
			name: "lightweight and annotated tags added",
			act: func(t *testing.T) source.Change {
				r.git(t, "tag", "prod/v1")
				r.git(t, "tag", "--annotate", "--message", "promote", "staging")
				r.push(t)
				return source.Change{
					Before: prev,
					After:  source.Refs{Head: prev.Head, Tags: tags("prod/v1", prev.Head, "staging", prev.Head)},
					Tags: []source.TagChange{
						{Name: "prod/v1", Action: source.TagAdded, New: prev.Head},
						{Name: "staging", Action: source.TagAdded, New: prev.Head},
					},
				}
			},
		},
		{
			name: "commit and moving tag force-updated",
			act: func(t *testing.T) source.Change {
				head := r.commitAndPush(t, map[string]string{"apps/web/new.yaml": "new: 1\n"})
				r.git(t, "tag", "--force", "--annotate", "--message", "promote again", "staging", head)
				r.push(t)
				return source.Change{
					Before: prev,
					After:  source.Refs{Head: head, Tags: tags("prod/v1", prev.Head, "staging", head)},
					Tags:   []source.TagChange{{Name: "staging", Action: source.TagMoved, Old: prev.Head, New: head}},
				}
			},
		},
		{
			name: "annotated tag re-created on the same commit is no change",
			act: func(t *testing.T) source.Change {
				r.git(t, "tag", "--force", "--annotate", "--message", "same commit, new tag object", "staging")
				r.push(t)
				return source.Change{Before: prev, After: prev}
			},
		},
		{
			name: "tag deleted on the remote is deleted locally",
			act: func(t *testing.T) source.Change {
				r.git(t, "tag", "--delete", "prod/v1")
				r.push(t)
				old := prev.Tags["prod/v1"]
				return source.Change{
					Before: prev,
					After:  source.Refs{Head: prev.Head, Tags: tags("staging", prev.Head)},
					Tags:   []source.TagChange{{Name: "prod/v1", Action: source.TagRemoved, Old: old}},
				}
			},
		},
		{
			name: "branch force-pushed to an older commit",
			act: func(t *testing.T) source.Change {
				r.git(t, "reset", "--hard", "HEAD~1")
				r.push(t)
				head := r.git(t, "rev-parse", "HEAD")
				return source.Change{Before: prev, After: source.Refs{Head: head, Tags: prev.Tags}}
			},
		},
		{
			name:         "unchanged again after all that",
			act:          func(t *testing.T) source.Change { return source.Change{Before: prev, After: prev} },
			wantRequests: 1,
		},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			want := step.act(t)
			before := r.requests.Load()
			got, err := g.Fetch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			requests := r.requests.Load() - before
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Fetch (-want +got):\n%s", diff)
			}
			if step.wantRequests != 0 && requests != step.wantRequests {
				t.Errorf("Fetch made %d HTTP requests, want %d", requests, step.wantRequests)
			}
			t.Logf("%d HTTP requests", requests)
			prev = got.After
		})
	}
}

func TestGitRecoversBrokenCache(t *testing.T) {
	tests := []struct {
		name string
		// breakCache damages the cache directory dir of a completed clone.
		breakCache func(t *testing.T, dir string)
		wantReason string
	}{
		{
			name: "objects deleted",
			breakCache: func(t *testing.T, dir string) {
				removeAll(t, filepath.Join(dir, "repo.git", "objects"))
			},
			wantReason: "unusable",
		},
		{
			name: "pack files truncated",
			breakCache: func(t *testing.T, dir string) {
				packs, _ := filepath.Glob(filepath.Join(dir, "repo.git", "objects", "pack", "*"))
				for _, p := range packs {
					if err := os.Truncate(p, 10); err != nil {
						t.Fatal(err)
					}
				}
			},
			wantReason: "unusable",
		},
		{
			name: "branch ref missing, as after a clone killed before writing refs",
			breakCache: func(t *testing.T, dir string) {
				removeAll(t, filepath.Join(dir, "repo.git", "refs"))
				removeAll(t, filepath.Join(dir, "repo.git", "packed-refs"))
			},
			wantReason: "unusable",
		},
		{
			name: "cache replaced by garbage",
			breakCache: func(t *testing.T, dir string) {
				removeAll(t, filepath.Join(dir, "repo.git"))
				writeFile(t, filepath.Join(dir, "repo.git", "HEAD"), "\x00garbage")
				writeFile(t, filepath.Join(dir, "repo.git", "config"), "[[[ not a config")
			},
			wantReason: "unusable",
		},
		{
			name: "clone killed half-way leaves only a clone directory",
			breakCache: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, "repo.git"), filepath.Join(dir, "clone-123")); err != nil {
					t.Fatal(err)
				}
			},
			wantReason: "no cache yet",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRemote(t, remoteOptions{})
			dir := t.TempDir()
			ctx := t.Context()
			if _, err := newGit(t, source.GitOptions{URL: r.URL, Dir: dir}).Fetch(ctx); err != nil {
				t.Fatal(err)
			}
			tt.breakCache(t, dir)

			// A new Git, as after a restart: nothing known but the cache.
			ch, err := newGit(t, source.GitOptions{URL: r.URL, Dir: dir}).Fetch(ctx)
			if err != nil {
				t.Fatalf("Fetch on a broken cache: %v", err)
			}
			if !ch.Cloned || !strings.Contains(ch.CloneReason, tt.wantReason) {
				t.Errorf("Fetch reported Cloned=%v reason %q, want a clone because %q", ch.Cloned, ch.CloneReason, tt.wantReason)
			}
			if want := r.git(t, "rev-parse", "HEAD"); ch.After.Head != want {
				t.Errorf("head after re-clone = %s, want %s", ch.After.Head, want)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if diff := cmp.Diff([]string{"repo.git"}, names); diff != "" {
				t.Errorf("cache directory entries (-want +got):\n%s", diff)
			}
			again, err := newGit(t, source.GitOptions{URL: r.URL, Dir: dir}).Fetch(ctx)
			if err != nil || again.Cloned || !again.Empty() {
				t.Errorf("Fetch after the re-clone = %+v, %v; want an unchanged fetch from the repaired cache", again, err)
			}
		})
	}
}

func TestGitDamageWhileRunning(t *testing.T) {
	tests := []struct {
		name string
		// after damaging the cache, act returns the head the next Fetch
		// must report.
		act func(t *testing.T, r *remote, g *source.Git, head string) string
	}{
		{
			name: "found by Export",
			act: func(t *testing.T, r *remote, g *source.Git, head string) string {
				if err := g.Export(t.Context(), head, t.TempDir()); err == nil {
					t.Fatal("Export from a damaged cache succeeded")
				}
				return head
			},
		},
		{
			name: "found when the remote changes",
			act: func(t *testing.T, r *remote, g *source.Git, head string) string {
				return r.commitAndPush(t, map[string]string{"next": "1"})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRemote(t, remoteOptions{})
			dir := t.TempDir()
			g := newGit(t, source.GitOptions{URL: r.URL, Dir: dir})
			first, err := g.Fetch(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			removeAll(t, filepath.Join(dir, "repo.git", "objects"))
			wantHead := tt.act(t, r, g, first.After.Head)
			ch, err := g.Fetch(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got := struct {
				Cloned       bool
				Before, Head string
			}{ch.Cloned, ch.Before.Head, ch.After.Head}
			want := struct {
				Cloned       bool
				Before, Head string
			}{true, first.After.Head, wantHead}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Fetch after damage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGitURLChangeReclones(t *testing.T) {
	a, b := newRemote(t, remoteOptions{}), newRemote(t, remoteOptions{})
	dir := t.TempDir()
	ctx := t.Context()
	if _, err := newGit(t, source.GitOptions{URL: a.URL, Dir: dir}).Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	ch, err := newGit(t, source.GitOptions{URL: b.URL, Dir: dir}).Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Cloned || !strings.Contains(ch.CloneReason, "another URL") {
		t.Errorf("Fetch with a new URL: Cloned=%v reason %q, want a re-clone", ch.Cloned, ch.CloneReason)
	}
	if want := b.git(t, "rev-parse", "HEAD"); ch.After.Head != want {
		t.Errorf("head = %s, want %s of the new URL", ch.After.Head, want)
	}
}

func TestGitFetchErrors(t *testing.T) {
	r := newRemote(t, remoteOptions{})
	tests := []struct {
		name    string
		opts    source.GitOptions
		wantErr []string
	}{
		{
			name:    "missing branch",
			opts:    source.GitOptions{URL: r.URL, Branch: "release"},
			wantErr: []string{r.URL, "branch release does not exist on the remote"},
		},
		{
			name:    "missing repository",
			opts:    source.GitOptions{URL: r.server.URL + "/absent.git"},
			wantErr: []string{r.server.URL + "/absent.git", "repository not found; check the URL"},
		},
		{
			name:    "nothing listening",
			opts:    source.GitOptions{URL: "http://127.0.0.1:1/app.git"},
			wantErr: []string{"http://127.0.0.1:1/app.git", "list remote refs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newGit(t, tt.opts).Fetch(t.Context())
			if err == nil {
				t.Fatal("Fetch succeeded, want an error")
			}
			t.Log(err)
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestGitEmptyRemote(t *testing.T) {
	r := newRemote(t, remoteOptions{})
	// A bare repository with no commit next to the served one.
	if _, err := r.repo.Git(t.Context(), "init", "--quiet", "--bare", filepath.Join(filepath.Dir(r.repo.Bare), "empty.git")); err != nil {
		t.Fatal(err)
	}
	_, err := newGit(t, source.GitOptions{URL: r.server.URL + "/empty.git"}).Fetch(t.Context())
	if err == nil || !strings.Contains(err.Error(), "the repository is empty; push a commit to branch main") {
		t.Errorf("Fetch of an empty repository: error %v, want one saying to push a commit", err)
	}
}

func removeAll(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}
