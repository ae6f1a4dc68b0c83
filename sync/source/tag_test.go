package source_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitops-agent/gitops-agent/sync/gitserver"
	"github.com/gitops-agent/gitops-agent/sync/source"
)

// tagFixture is a working clone with two commits on main, both pushed to its origin, a bare
// repository on disk.
type tagFixture struct {
	repo          *gitserver.Repo
	first, second string
}

func newTagFixture(t *testing.T) *tagFixture {
	t.Helper()
	ctx := t.Context()
	repo, err := gitserver.NewRepo(ctx, t.TempDir(), "app.git", t.TempDir(), "testdata/site")
	if err != nil {
		t.Fatal(err)
	}
	f := &tagFixture{repo: repo}
	f.first = f.git(t, "rev-parse", "HEAD")
	if f.second, err = repo.Commit(ctx, "second", map[string]string{"apps/web/configmap.yaml": "second: true\n"}); err != nil {
		t.Fatal(err)
	}
	if err := repo.Push(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *tagFixture) git(t *testing.T, args ...string) string {
	t.Helper()
	out, err := f.repo.Git(t.Context(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pushTag tags and pushes with the git CLI, as another person would.
func (f *tagFixture) pushTag(t *testing.T, name, rev string) {
	t.Helper()
	if err := f.repo.Tag(t.Context(), name, rev, "by someone else"); err != nil {
		t.Fatal(err)
	}
	if err := f.repo.Push(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// localTags reads the clone's tags, each peeled to its commit.
func localTags(t *testing.T, dir string) map[string]string {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	iter, err := repo.Tags()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		h, err := repo.ResolveRevision(plumbing.Revision(ref.Name()))
		if err != nil {
			return err
		}
		out[ref.Name().Short()] = h.String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// lsRemote lists the tags of url afresh, as git ls-remote does: peeled is each tag's commit,
// objects what the tag ref itself points to.
func lsRemote(t *testing.T, url string, auth transport.AuthMethod, ca []byte) (peeled, objects map[string]string) {
	t.Helper()
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	refs, err := remote.ListContext(t.Context(), &git.ListOptions{Auth: auth, CABundle: ca, PeelingOption: git.AppendPeeled})
	if err != nil {
		t.Fatalf("list %s: %v", url, err)
	}
	peeled, objects = map[string]string{}, map[string]string{}
	for _, ref := range refs {
		name, isPeeled := strings.CutSuffix(ref.Name().String(), "^{}")
		short, isTag := strings.CutPrefix(name, "refs/tags/")
		switch {
		case !isTag:
		case isPeeled:
			peeled[short] = ref.Hash().String()
		default:
			objects[short] = ref.Hash().String()
			if _, ok := peeled[short]; !ok {
				peeled[short] = ref.Hash().String()
			}
		}
	}
	return peeled, objects
}

func TestPushTag(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, f *tagFixture)
		req   func(f *tagFixture) source.TagRequest
		// wantTag and wantCommit are the result; wantErr, when set, the parts of the error.
		wantTag    string
		wantCommit func(f *tagFixture) string
		wantErr    func(f *tagFixture) []string
		// wantRemote is every tag on the remote afterwards, peeled.
		wantRemote func(f *tagFixture) map[string]string
	}{
		{
			name:       "full commit id",
			req:        func(f *tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Name: "v1", Rev: f.first} },
			wantTag:    "prod/v1",
			wantCommit: func(f *tagFixture) string { return f.first },
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"prod/v1": f.first} },
		},
		{
			name: "short commit id",
			req: func(f *tagFixture) source.TagRequest {
				return source.TagRequest{Env: "prod", Name: "v1", Rev: f.second[:7]}
			},
			wantTag:    "prod/v1",
			wantCommit: func(f *tagFixture) string { return f.second },
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"prod/v1": f.second} },
		},
		{
			name:       "branch",
			req:        func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "staging", Name: "v1", Rev: "main"} },
			wantTag:    "staging/v1",
			wantCommit: func(f *tagFixture) string { return f.second },
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"staging/v1": f.second} },
		},
		{
			name: "remote branch behind the local one",
			setup: func(t *testing.T, f *tagFixture) {
				if _, err := f.repo.Commit(t.Context(), "not pushed", nil); err != nil {
					t.Fatal(err)
				}
			},
			req: func(*tagFixture) source.TagRequest {
				return source.TagRequest{Env: "prod", Name: "v1", Rev: "origin/main"}
			},
			wantTag:    "prod/v1",
			wantCommit: func(f *tagFixture) string { return f.second },
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"prod/v1": f.second} },
		},
		{
			name:       "HEAD~1",
			req:        func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Name: "v1", Rev: "HEAD~1"} },
			wantTag:    "prod/v1",
			wantCommit: func(f *tagFixture) string { return f.first },
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"prod/v1": f.first} },
		},
		{
			name:  "annotated release tag",
			setup: func(t *testing.T, f *tagFixture) { f.pushTag(t, "release-1.0", f.first) },
			req: func(*tagFixture) source.TagRequest {
				return source.TagRequest{Env: "prod", Name: "v1", Rev: "release-1.0"}
			},
			wantTag:    "prod/v1",
			wantCommit: func(f *tagFixture) string { return f.first },
			wantRemote: func(f *tagFixture) map[string]string {
				return map[string]string{"release-1.0": f.first, "prod/v1": f.first}
			},
		},
		{
			name:       "same tag on the same commit on the remote",
			setup:      func(t *testing.T, f *tagFixture) { f.pushTag(t, "prod/v1", f.second) },
			req:        func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Name: "v1", Rev: "HEAD"} },
			wantTag:    "prod/v1",
			wantCommit: func(f *tagFixture) string { return f.second },
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"prod/v1": f.second} },
		},
		{
			name: "same tag on the same commit, not pushed yet",
			setup: func(t *testing.T, f *tagFixture) {
				if err := f.repo.Tag(t.Context(), "prod/v1", f.second, ""); err != nil {
					t.Fatal(err)
				}
			},
			req:        func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Name: "v1", Rev: "HEAD"} },
			wantTag:    "prod/v1",
			wantCommit: func(f *tagFixture) string { return f.second },
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"prod/v1": f.second} },
		},
		{
			name:  "tag on another commit on the remote",
			setup: func(t *testing.T, f *tagFixture) { f.pushTag(t, "prod/v1", f.first) },
			req:   func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Name: "v1", Rev: "HEAD"} },
			wantErr: func(f *tagFixture) []string {
				return []string{`tag prod/v1 already exists on remote "origin" (file://` + f.repo.Bare + `) at commit ` + f.first, "never moves"}
			},
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"prod/v1": f.first} },
		},
		{
			name: "tag on another commit in the clone only",
			setup: func(t *testing.T, f *tagFixture) {
				if err := f.repo.Tag(t.Context(), "prod/v1", f.first, ""); err != nil {
					t.Fatal(err)
				}
			},
			req: func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Name: "v1", Rev: "HEAD"} },
			wantErr: func(f *tagFixture) []string {
				return []string{"tag prod/v1 already exists in " + f.repo.Work + " at commit " + f.first, "git tag -d prod/v1"}
			},
			wantRemote: func(*tagFixture) map[string]string { return map[string]string{} },
		},
		{
			name: "unknown revision",
			req: func(*tagFixture) source.TagRequest {
				return source.TagRequest{Env: "prod", Name: "v1", Rev: "no-such-branch"}
			},
			wantErr:    func(*tagFixture) []string { return []string{`unknown revision "no-such-branch"`} },
			wantRemote: func(*tagFixture) map[string]string { return map[string]string{} },
		},
		{
			name: "moving tag created",
			req: func(*tagFixture) source.TagRequest {
				return source.TagRequest{Env: "prod", Rev: "HEAD~1", Moving: true}
			},
			wantTag:    "prod",
			wantCommit: func(f *tagFixture) string { return f.first },
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"prod": f.first} },
		},
		{
			name:       "moving tag moves",
			setup:      func(t *testing.T, f *tagFixture) { f.pushTag(t, "prod", f.first) },
			req:        func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Rev: "HEAD", Moving: true} },
			wantTag:    "prod",
			wantCommit: func(f *tagFixture) string { return f.second },
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"prod": f.second} },
		},
		{
			name:       "moving tag already on the commit",
			setup:      func(t *testing.T, f *tagFixture) { f.pushTag(t, "prod", f.second) },
			req:        func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Rev: "HEAD", Moving: true} },
			wantTag:    "prod",
			wantCommit: func(f *tagFixture) string { return f.second },
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"prod": f.second} },
		},
		{
			name: "moving tag with a name",
			req: func(*tagFixture) source.TagRequest {
				return source.TagRequest{Env: "prod", Name: "v1", Rev: "HEAD", Moving: true}
			},
			wantErr: func(*tagFixture) []string {
				return []string{`a moving tag is named prod alone, so the name "v1" cannot be used with it`}
			},
			wantRemote: func(*tagFixture) map[string]string { return map[string]string{} },
		},
		{
			name:  "promotion tag beside a moving tag on the remote",
			setup: func(t *testing.T, f *tagFixture) { f.pushTag(t, "prod", f.first); f.git(t, "tag", "--delete", "prod") },
			req:   func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Name: "v1", Rev: "HEAD"} },
			wantErr: func(f *tagFixture) []string {
				return []string{`tag prod/v1 cannot be created: remote "origin" (file://` + f.repo.Bare + `) has the moving tag prod`}
			},
			wantRemote: func(f *tagFixture) map[string]string { return map[string]string{"prod": f.first} },
		},
		{
			name:  "moving tag beside promotion tags in the clone",
			setup: func(t *testing.T, f *tagFixture) { f.git(t, "tag", "prod/v1", f.first) },
			req:   func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Rev: "HEAD", Moving: true} },
			wantErr: func(f *tagFixture) []string {
				return []string{"the moving tag prod cannot be created: " + f.repo.Work + " has the tag prod/v1"}
			},
			wantRemote: func(*tagFixture) map[string]string { return map[string]string{} },
		},
		{
			name: "remote not configured",
			req: func(*tagFixture) source.TagRequest {
				return source.TagRequest{Remote: "upstream", Env: "prod", Name: "v1", Rev: "HEAD"}
			},
			wantErr: func(*tagFixture) []string {
				return []string{`remote "upstream" is not configured in`, "git remote add upstream URL"}
			},
			wantRemote: func(*tagFixture) map[string]string { return map[string]string{} },
		},
		{
			name: "remote missing",
			setup: func(t *testing.T, f *tagFixture) {
				if err := f.repo.SetOrigin(t.Context(), "/nonexistent/app.git"); err != nil {
					t.Fatal(err)
				}
			},
			req: func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Name: "v1", Rev: "HEAD"} },
			wantErr: func(*tagFixture) []string {
				return []string{`list the tags of remote "origin" (file:///nonexistent/app.git)`, "repository not found"}
			},
		},
		{
			name: "remote unreachable",
			setup: func(t *testing.T, f *tagFixture) {
				if err := f.repo.SetOrigin(t.Context(), "http://127.0.0.1:1/app.git"); err != nil {
					t.Fatal(err)
				}
			},
			req: func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Name: "v1", Rev: "HEAD"} },
			wantErr: func(*tagFixture) []string {
				return []string{`remote "origin" (http://127.0.0.1:1/app.git)`, "connection refused"}
			},
		},
		{
			name:       "name that is not a tag name",
			req:        func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Name: "v1..2", Rev: "HEAD"} },
			wantErr:    func(*tagFixture) []string { return []string{`name "v1..2": not a valid git tag name`} },
			wantRemote: func(*tagFixture) map[string]string { return map[string]string{} },
		},
		{
			name:       "environment with a slash",
			req:        func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod/eu", Name: "v1", Rev: "HEAD"} },
			wantErr:    func(*tagFixture) []string { return []string{`environment "prod/eu": contains "/"`} },
			wantRemote: func(*tagFixture) map[string]string { return map[string]string{} },
		},
		{
			name:       "no revision",
			req:        func(*tagFixture) source.TagRequest { return source.TagRequest{Env: "prod", Name: "v1"} },
			wantErr:    func(*tagFixture) []string { return []string{"no revision given"} },
			wantRemote: func(*tagFixture) map[string]string { return map[string]string{} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTagFixture(t)
			if tt.setup != nil {
				tt.setup(t, f)
			}
			before := localTags(t, f.repo.Work)
			req := tt.req(f)
			req.Dir = f.repo.Work
			tag, commit, err := source.PushTag(t.Context(), req)

			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("PushTag = %s at %s, want an error", tag, commit)
				}
				for _, want := range tt.wantErr(f) {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("PushTag error lacks %q:\n%v", want, err)
					}
				}
				// A failed promotion leaves the clone as it found it, so a retry works.
				if diff := cmp.Diff(before, localTags(t, f.repo.Work)); diff != "" {
					t.Errorf("local tags after the failure (-before +after):\n%s", diff)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if tag != tt.wantTag || commit != tt.wantCommit(f) {
					t.Errorf("PushTag = %s at %s, want %s at %s", tag, commit, tt.wantTag, tt.wantCommit(f))
				}
			}
			if tt.wantRemote != nil {
				got, _ := lsRemote(t, f.repo.Bare, nil, nil)
				if diff := cmp.Diff(tt.wantRemote(f), got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("tags on the remote (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestPushTagIsIdempotent(t *testing.T) {
	f := newTagFixture(t)
	req := source.TagRequest{Dir: f.repo.Work, Env: "prod", Name: "v1", Rev: "HEAD"}
	if _, _, err := source.PushTag(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	_, objects := lsRemote(t, f.repo.Bare, nil, nil)
	for i := range 2 {
		tag, commit, err := source.PushTag(t.Context(), req)
		if err != nil {
			t.Fatalf("retry %d: %v", i+1, err)
		}
		if tag != "prod/v1" || commit != f.second {
			t.Errorf("retry %d = %s at %s, want prod/v1 at %s", i+1, tag, commit, f.second)
		}
	}
	_, again := lsRemote(t, f.repo.Bare, nil, nil)
	if diff := cmp.Diff(objects, again); diff != "" {
		t.Errorf("the tag object on the remote changed on retry (-first +now):\n%s", diff)
	}
}

func TestPushTagDefaults(t *testing.T) {
	// Keep the machine's own git configuration out of the tagger's identity.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	fixed := time.Date(2026, 11, 22, 10, 30, 0, 0, time.FixedZone("CET", 3600))

	tests := []struct {
		name       string
		config     [][2]string // git config of the clone
		req        source.TagRequest
		wantTagger object.Signature // When is checked apart when zero
		wantMsg    string
	}{
		{
			name:       "from user.name and user.email",
			config:     [][2]string{{"user.name", "Ada Release"}, {"user.email", "ada@example.org"}},
			wantTagger: object.Signature{Name: "Ada Release", Email: "ada@example.org"},
		},
		{
			name:       "committer identity first",
			config:     [][2]string{{"user.name", "Ada"}, {"user.email", "ada@example.org"}, {"committer.name", "Bot"}, {"committer.email", "bot@example.org"}},
			wantTagger: object.Signature{Name: "Bot", Email: "bot@example.org"},
		},
		{
			name:       "without configuration",
			wantTagger: object.Signature{Name: "gitops-agent", Email: "gitops-agent@localhost"},
		},
		{
			name:       "given",
			config:     [][2]string{{"user.name", "Ada"}, {"user.email", "ada@example.org"}},
			req:        source.TagRequest{Message: "CHG-42: quarterly release", Tagger: object.Signature{Name: "Release Bot", Email: "bot@example.org", When: fixed}},
			wantTagger: object.Signature{Name: "Release Bot", Email: "bot@example.org", When: fixed},
			wantMsg:    "CHG-42: quarterly release\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTagFixture(t)
			for _, kv := range tt.config {
				f.git(t, "config", kv[0], kv[1])
			}
			req := tt.req
			req.Dir, req.Env, req.Rev = filepath.Join(f.repo.Work, "apps"), "prod", "HEAD"
			start := time.Now().Truncate(time.Second)
			tag, _, err := source.PushTag(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			end := time.Now()

			name, ok := strings.CutPrefix(tag, "prod/")
			at, err := time.Parse("2006-01-02T15-04-05Z", name)
			if !ok || err != nil || at.Before(start.UTC()) || at.After(end) {
				t.Errorf("tag %s, want prod/<UTC time between %s and %s>", tag, start.UTC(), end.UTC())
			}
			repo, err := git.PlainOpen(f.repo.Work)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := repo.Tag(tag)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := repo.TagObject(ref.Hash())
			if err != nil {
				t.Fatalf("tag %s is not annotated: %v", tag, err)
			}
			wantMsg := tt.wantMsg
			if wantMsg == "" {
				wantMsg = "promote " + f.second[:12] + " to prod\n"
			}
			if tt.wantTagger.When.IsZero() {
				if obj.Tagger.When.Before(start) || obj.Tagger.When.After(end) {
					t.Errorf("tagger time %s, want between %s and %s", obj.Tagger.When, start, end)
				}
				tt.wantTagger.When = obj.Tagger.When
			}
			type annotation struct {
				Message, Target string
				Tagger          object.Signature
			}
			want := annotation{wantMsg, f.second, tt.wantTagger}
			got := annotation{obj.Message, obj.Target.String(), obj.Tagger}
			if diff := cmp.Diff(want, got, cmpopts.EquateApproxTime(time.Second)); diff != "" {
				t.Errorf("tag %s (-want +got):\n%s", tag, diff)
			}
		})
	}
}

func TestPushTagFromBareClone(t *testing.T) {
	f := newTagFixture(t)
	bare := t.TempDir()
	f.git(t, "clone", "--quiet", "--bare", f.repo.Bare, bare)
	tag, commit, err := source.PushTag(t.Context(), source.TagRequest{Dir: bare, Env: "dev", Name: "r1", Rev: "main~1"})
	if err != nil {
		t.Fatal(err)
	}
	if tag != "dev/r1" || commit != f.first {
		t.Errorf("PushTag = %s at %s, want dev/r1 at %s", tag, commit, f.first)
	}
	got, _ := lsRemote(t, f.repo.Bare, nil, nil)
	if diff := cmp.Diff(map[string]string{"dev/r1": f.first}, got); diff != "" {
		t.Errorf("tags on the remote (-want +got):\n%s", diff)
	}
}

// pushServer serves a repository over git smart HTTPS as public hosting does: anyone may read,
// pushing takes a token with write access; readToken authenticates but may not push.
type pushServer struct {
	repo *gitserver.Repo
	url  string
	ca   string
}

func newPushServer(t *testing.T, user, writeToken, readToken string) *pushServer {
	t.Helper()
	root := t.TempDir()
	srv, err := gitserver.New(t.Context(), root, gitserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	repo, err := gitserver.NewRepo(t.Context(), root, "app.git", t.TempDir(), "testdata/site")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		push := r.URL.Query().Get("service") == "git-receive-pack" || strings.HasSuffix(r.URL.Path, "/git-receive-pack")
		u, p, _ := r.BasicAuth()
		switch {
		case !push, u == user && p == writeToken:
			srv.ServeHTTP(w, r)
		case u == user && p == readToken:
			http.Error(w, "this token may only read", http.StatusForbidden)
		default:
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
		}
	}))
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	hs.StartTLS()
	t.Cleanup(hs.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, ca, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw})))
	return &pushServer{repo: repo, url: hs.URL + "/app.git", ca: ca}
}

func TestPushTagOverHTTP(t *testing.T) {
	const (
		user       = "x-access-token"
		token      = "ghp_pr0m0te5ecret"
		readToken  = "ghp_r3adonly"
		wrongToken = "ghp_wr0ng"
	)
	tokenDir := t.TempDir()
	good := writeFile(t, filepath.Join(tokenDir, "good"), token+"\n")
	readOnly := writeFile(t, filepath.Join(tokenDir, "read"), readToken+"\n")
	bad := writeFile(t, filepath.Join(tokenDir, "bad"), wrongToken+"\n")
	hook, err := os.ReadFile("testdata/hooks/pre-receive-refuse")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		// originUser is written into the clone's origin URL, as user:password.
		originUser string
		auth       source.Auth
		refuseHook bool
		wantErr    []string // empty: the tag is pushed
	}{
		{name: "right token", auth: source.Auth{Username: user, TokenFile: good}},
		{name: "wrong token", auth: source.Auth{Username: user, TokenFile: bad}, wantErr: []string{"the token in " + bad + " was rejected"}},
		{name: "token without write access", auth: source.Auth{Username: user, TokenFile: readOnly}, wantErr: []string{"access denied; the credentials need write access"}},
		{name: "no credentials", wantErr: []string{"the server requires credentials", "git credential helpers are not used"}},
		{name: "token in the origin URL", originUser: user + ":" + token},
		{name: "wrong token in the origin URL", originUser: user + ":" + wrongToken, wantErr: []string{"the credentials in the remote's URL were rejected"}},
		{
			name:       "push refused by the server",
			auth:       source.Auth{Username: user, TokenFile: good},
			refuseHook: true,
			wantErr:    []string{"push tag prod/v1 to remote", "pre-receive hook declined", "the server said: tags under prod/ need a release ticket"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newPushServer(t, user, token, readToken)
			origin := s.url
			if tt.originUser != "" {
				origin = strings.Replace(s.url, "https://", "https://"+tt.originUser+"@", 1)
			}
			if err := s.repo.SetOrigin(t.Context(), origin); err != nil {
				t.Fatal(err)
			}
			if tt.refuseHook {
				path := filepath.Join(s.repo.Bare, "hooks", "pre-receive")
				writeFile(t, path, string(hook))
				if err := os.Chmod(path, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			head, err := s.repo.Git(t.Context(), "rev-parse", "HEAD")
			if err != nil {
				t.Fatal(err)
			}

			tag, commit, err := source.PushTag(t.Context(), source.TagRequest{
				Dir: s.repo.Work, Env: "prod", Name: "v1", Rev: "HEAD", Auth: tt.auth, CAFile: s.ca,
			})

			caPEM, rerr := os.ReadFile(s.ca)
			if rerr != nil {
				t.Fatal(rerr)
			}
			remoteTags, _ := lsRemote(t, s.url, nil, caPEM)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if tag != "prod/v1" || commit != head {
					t.Errorf("PushTag = %s at %s, want prod/v1 at %s", tag, commit, head)
				}
				if diff := cmp.Diff(map[string]string{"prod/v1": head}, remoteTags); diff != "" {
					t.Errorf("tags on the server (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("PushTag = %s at %s, want an error", tag, commit)
			}
			t.Log(err)
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("PushTag error lacks %q:\n%v", want, err)
				}
			}
			for _, secret := range []string{token, readToken, wrongToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error reveals a token: %v", err)
				}
			}
			if got := localTags(t, s.repo.Work); len(got) != 0 {
				t.Errorf("local tags after the failed push = %v, want none so that a retry works", got)
			}
			if len(remoteTags) != 0 {
				t.Errorf("tags on the server after the failed push = %v, want none", remoteTags)
			}
		})
	}
}

func TestPushTagToPrivateServer(t *testing.T) {
	const token = "glpat-r3adwr1te"
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good"), token)
	bad := writeFile(t, filepath.Join(dir, "bad"), "glpat-wr0ng")
	tests := []struct {
		name      string
		tokenFile string
		wantErr   string // empty: success
	}{
		{name: "right token", tokenFile: good},
		{name: "wrong token, refused when listing", tokenFile: bad, wantErr: `list the tags of remote "origin"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRemote(t, remoteOptions{tls: true, server: gitserver.Options{Username: "oauth2", Token: token}})
			if err := r.repo.SetOrigin(t.Context(), r.URL); err != nil {
				t.Fatal(err)
			}
			_, commit, err := source.PushTag(t.Context(), source.TagRequest{
				Dir: r.repo.Work, Env: "dev", Name: "1", Rev: "HEAD", CAFile: r.caFile(t),
				Auth: source.Auth{Username: "oauth2", TokenFile: tt.tokenFile},
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), token) {
					t.Fatalf("PushTag error = %v, want one containing %q without the token", err, tt.wantErr)
				}
				if got := localTags(t, r.repo.Work); len(got) != 0 {
					t.Errorf("local tags after the failure = %v, want none", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := lsRemote(t, r.repo.Bare, nil, nil)
			if diff := cmp.Diff(map[string]string{"dev/1": commit}, got); diff != "" {
				t.Errorf("tags on the server (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPushTagRefusedKeepsMovingTag(t *testing.T) {
	f := newTagFixture(t)
	f.pushTag(t, "prod", f.first)
	hook, err := os.ReadFile("testdata/hooks/pre-receive-refuse")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.repo.Bare, "hooks", "pre-receive")
	writeFile(t, path, string(hook))
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	before := localTags(t, f.repo.Work)

	_, _, err = source.PushTag(t.Context(), source.TagRequest{Dir: f.repo.Work, Env: "prod", Rev: "HEAD", Moving: true})
	if err == nil || !strings.Contains(err.Error(), "need a release ticket") {
		t.Fatalf("PushTag error = %v, want the hook's refusal", err)
	}
	if diff := cmp.Diff(before, localTags(t, f.repo.Work)); diff != "" {
		t.Errorf("local tags after the refused push (-before +after):\n%s", diff)
	}
	got, _ := lsRemote(t, f.repo.Bare, nil, nil)
	if diff := cmp.Diff(map[string]string{"prod": f.first}, got); diff != "" {
		t.Errorf("tags on the remote (-want +got):\n%s", diff)
	}
}

func ExamplePushTag() {
	ctx := context.Background()
	root, err := os.MkdirTemp("", "promote")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)
	// A clone of the deployments repository; its origin is a bare repository beside it.
	repo, err := gitserver.NewRepo(ctx, root, "deployments.git", filepath.Join(root, "clone"), "testdata/site")
	if err != nil {
		fmt.Println(err)
		return
	}

	tag, commit, err := source.PushTag(ctx, source.TagRequest{Dir: repo.Work, Env: "prod", Name: "2026-11-22.1", Rev: "HEAD"})
	if err != nil {
		fmt.Println(err)
		return
	}
	head, _ := repo.Git(ctx, "rev-parse", "HEAD")
	fmt.Println(tag, commit == head)
	// Output: prod/2026-11-22.1 true
}
