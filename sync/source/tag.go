package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// TagRequest is a promotion tag to create.
type TagRequest struct {
	// Dir is a local clone (with a worktree or bare, or any directory inside one); the tag is
	// created there and pushed.
	Dir string
	// Remote is the remote to push to; "origin" when empty.
	Remote string
	// Env is the environment; the tag is "<Env>/<Name>".
	Env string
	// Name is the tag's second part; the UTC time as "2006-01-02T15-04-05Z" when empty. It is one
	// ref component: no "/".
	Name string
	// Rev is the commit to promote, in any form git understands: a full or short commit id, a
	// branch, a remote branch (origin/main), a tag, HEAD~1.
	Rev string
	// Message is the annotated tag's message; "promote <short commit> to <Env>" when empty.
	Message string
	// Tagger signs the tag; from the repository's git configuration (committer.name/email,
	// else user.name/email) when empty, else "gitops-agent". A zero When is the current time.
	Tagger object.Signature
	// Auth authenticates to the remote as the agent does; when empty, credentials written in
	// the remote's URL are used (as git would), otherwise none. Git credential helpers are not
	// run.
	Auth Auth
	// CAFile is an optional PEM bundle trusted for an https remote, in addition to the system
	// roots.
	CAFile string
	// Moving promotes by force-moving the tag named exactly Env instead of creating
	// "<Env>/<Name>": git cannot hold a ref "refs/tags/prod" beside refs under
	// "refs/tags/prod/", so an environment is promoted by one kind of tag or the other, and
	// Name must be empty.
	Moving bool
}

const (
	// tagTimeLayout is a valid ref component (no ":") that sorts by time.
	tagTimeLayout      = "2006-01-02T15-04-05Z"
	defaultTaggerName  = "gitops-agent"
	defaultTaggerEmail = "gitops-agent@localhost"
	shortCommitLen     = 12
)

// PushTag resolves req.Rev, creates an annotated tag on that commit, and pushes it. It returns
// the tag name and the full commit id.
//
// A "<Env>/<Name>" tag never moves: one that already exists on the same commit (locally or on
// the remote) makes PushTag succeed without change, on another commit it is an error naming
// that commit. A moving tag is force-moved, and left alone when it already points at the
// commit. When the push fails, the local tag is put back as it was, so a retry starts afresh.
func PushTag(ctx context.Context, req TagRequest) (tag, commit string, err error) {
	now := time.Now()
	req, err = req.withDefaults(now)
	if err != nil {
		return "", "", err
	}
	tag = req.tagName()
	repo, err := openClone(req.Dir)
	if err != nil {
		return "", "", err
	}
	hash, err := repo.ResolveRevision(plumbing.Revision(req.Rev))
	if err != nil {
		return "", "", fmt.Errorf("unknown revision %q in %s: %w; give a commit id, a branch, a tag or HEAD~N (fetch first if it exists only on the remote)", req.Rev, req.Dir, err)
	}
	commit = hash.String()
	target, err := openTarget(repo, req)
	if err != nil {
		return "", "", err
	}
	if err := target.push(ctx, repo, req, tag, *hash, now); err != nil {
		return "", "", fmt.Errorf("promote %s to %s: %w", commit[:shortCommitLen], req.Env, err)
	}
	return tag, commit, nil
}

// openClone opens the clone at dir, which may be bare, or that dir is in.
func openClone(dir string) (*git.Repository, error) {
	// Searching parent directories finds only .git directories, not bare clones: try dir first.
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	}
	if err != nil {
		return nil, fmt.Errorf("open the git repository at %s: %w (run this inside a clone of the deployments repository)", dir, err)
	}
	return repo, nil
}

// withDefaults validates r and fills in what it leaves to defaults.
func (r TagRequest) withDefaults(now time.Time) (TagRequest, error) {
	if r.Dir == "" {
		r.Dir = "."
	}
	if r.Remote == "" {
		r.Remote = git.DefaultRemoteName
	}
	if r.Rev == "" {
		return r, errors.New("promotion tag: no revision given; name the commit to promote (a commit id, branch, tag or HEAD)")
	}
	if err := validTagComponent(r.Env); err != nil {
		return r, fmt.Errorf("promotion tag: environment %q: %w", r.Env, err)
	}
	switch {
	case r.Moving && r.Name != "":
		return r, fmt.Errorf("promotion tag: a moving tag is named %s alone, so the name %q cannot be used with it (git cannot hold both %s and %s/%s)", r.Env, r.Name, r.Env, r.Env, r.Name)
	case r.Moving:
	case r.Name == "":
		r.Name = now.UTC().Format(tagTimeLayout)
	default:
		if err := validTagComponent(r.Name); err != nil {
			return r, fmt.Errorf("promotion tag: name %q: %w", r.Name, err)
		}
	}
	return r, nil
}

func (r TagRequest) tagName() string {
	if r.Moving {
		return r.Env
	}
	return r.Env + "/" + r.Name
}

// validTagComponent accepts what git accepts as one component of a tag name.
func validTagComponent(s string) error {
	switch {
	case s == "":
		return errors.New("empty")
	case strings.Contains(s, "/"):
		return errors.New(`contains "/"; it must be a single tag name component`)
	case strings.HasPrefix(s, "-"):
		return errors.New(`starts with "-"`)
	}
	if plumbing.NewTagReferenceName(s).Validate() != nil {
		return errors.New(`not a valid git tag name (no spaces, "..", "~^:?*[\", "@{", leading "." or trailing ".lock" or ".")`)
	}
	return nil
}

// tagTarget is the remote a tag goes to. Credentials are kept out of url, so that go-git cannot
// put them into an error message.
type tagTarget struct {
	name     string
	url      string
	redacted string
	// src carries the authentication settings and explains transport errors as the agent does.
	src *Git
	// urlAuth holds the credentials written in the remote's URL, used when none were given.
	urlAuth transport.AuthMethod
	remote  *git.Remote
}

func openTarget(repo *git.Repository, req TagRequest) (*tagTarget, error) {
	rc, err := repo.Remote(req.Remote)
	if errors.Is(err, git.ErrRemoteNotFound) {
		return nil, fmt.Errorf("remote %q is not configured in %s; add it (git remote add %s URL) or name another remote", req.Remote, req.Dir, req.Remote)
	}
	if err != nil {
		return nil, fmt.Errorf("read remote %q of %s: %w", req.Remote, req.Dir, err)
	}
	urls := rc.Config().URLs
	if len(urls) != 1 {
		return nil, fmt.Errorf("remote %q of %s has %d URLs; a promotion tag is pushed to exactly one: name a remote with a single URL", req.Remote, req.Dir, len(urls))
	}
	ep, err := transport.NewEndpoint(urls[0])
	if err != nil {
		return nil, fmt.Errorf("remote %q of %s: not a git URL: %w", req.Remote, req.Dir, err)
	}
	t := &tagTarget{name: req.Remote, url: urls[0], redacted: redactedEndpoint(ep)}
	if isHTTP(ep) && (ep.User != "" || ep.Password != "") {
		// A person's clone may carry a token in its URL, which git would send: do the same
		// unless credentials were given explicitly.
		if req.Auth == (Auth{}) {
			t.urlAuth = &githttp.BasicAuth{Username: ep.User, Password: ep.Password}
		}
		clean := *ep
		clean.User, clean.Password = "", ""
		ep, t.url = &clean, clean.String()
	}
	t.src = &Git{opts: GitOptions{URL: t.url, Auth: req.Auth, CAFile: req.CAFile}, endpoint: ep}
	if err := validateAuth(ep, t.src.opts); err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	t.remote = git.NewRemote(repo.Storer, &config.RemoteConfig{Name: req.Remote, URLs: []string{t.url}})
	return t, nil
}

func (t *tagTarget) String() string { return fmt.Sprintf("remote %q (%s)", t.name, t.redacted) }

func (t *tagTarget) connection() (connection, error) {
	conn, err := t.src.connection()
	if err != nil {
		return conn, fmt.Errorf("%s: %w", t, err)
	}
	if conn.auth == nil {
		conn.auth = t.urlAuth
	}
	return conn, nil
}

// explain says what to do about the transport errors of a push.
func (t *tagTarget) explain(err error) error {
	switch {
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("access denied; the credentials need write access to the repository to push tags: %w", err)
	case errors.Is(err, transport.ErrAuthenticationRequired) && t.urlAuth != nil:
		return fmt.Errorf("the credentials in the remote's URL were rejected; update them, or give a token file: %w", err)
	case errors.Is(err, transport.ErrAuthenticationRequired) && t.src.opts.Auth == (Auth{}):
		return fmt.Errorf("the server requires credentials; give a token file (https) or an SSH key (ssh), git credential helpers are not used: %w", err)
	case strings.Contains(err.Error(), "ssh: unable to authenticate"):
		return fmt.Errorf("the server refused the SSH key %s; it needs write access to the repository: %w", t.src.opts.Auth.SSHKeyFile, err)
	}
	return t.src.explain(err)
}

// push makes tag point at commit on the remote, creating it locally first when needed.
func (t *tagTarget) push(ctx context.Context, repo *git.Repository, req TagRequest, tag string, commit plumbing.Hash, now time.Time) (err error) {
	conn, err := t.connection()
	if err != nil {
		return err
	}
	remoteTags, err := t.tags(ctx, repo, conn)
	if err != nil {
		return err
	}
	localTags, err := tagsOf(repo)
	if err != nil {
		return fmt.Errorf("read the tags of %s: %w", req.Dir, err)
	}
	if err := checkTagNamespace(req, localTags, req.Dir); err != nil {
		return err
	}
	if err := checkTagNamespace(req, remoteTags, t.String()); err != nil {
		return err
	}

	ref := plumbing.NewTagReferenceName(tag)
	if at, ok := remoteTags[ref]; ok {
		if at == commit {
			return nil
		}
		if !req.Moving {
			return fmt.Errorf("tag %s already exists on %s at commit %s: a promotion tag never moves; choose another name", tag, t, at)
		}
	}
	prev, err := repo.Reference(ref, false)
	switch {
	case errors.Is(err, plumbing.ErrReferenceNotFound):
		prev = nil
	case err != nil:
		return fmt.Errorf("read tag %s in %s: %w", tag, req.Dir, err)
	case localTags[ref] != commit && !req.Moving:
		return fmt.Errorf("tag %s already exists in %s at commit %s but not on %s; if it is left from an earlier attempt delete it (git tag -d %s), otherwise choose another name", tag, req.Dir, localTags[ref], t, tag)
	}
	if prev == nil || localTags[ref] != commit {
		if err := createTag(repo, req, tag, commit, prev != nil, now); err != nil {
			return fmt.Errorf("create tag %s in %s: %w", tag, req.Dir, err)
		}
		defer func() {
			if err != nil {
				err = errors.Join(err, restoreTag(repo, ref, prev, req.Dir))
			}
		}()
	}
	return t.pushRef(ctx, conn, ref, req.Moving)
}

// tags lists the remote's tags, each with the commit it points to.
func (t *tagTarget) tags(ctx context.Context, repo *git.Repository, conn connection) (map[plumbing.ReferenceName]plumbing.Hash, error) {
	refs, err := t.remote.ListContext(ctx, &git.ListOptions{Auth: conn.auth, CABundle: conn.caBundle, PeelingOption: git.AppendPeeled})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return map[plumbing.ReferenceName]plumbing.Hash{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the tags of %s: %w", t, t.explain(err))
	}
	advertised := map[plumbing.ReferenceName]plumbing.Hash{}
	peeled := map[plumbing.ReferenceName]plumbing.Hash{}
	for _, ref := range refs {
		if base, ok := strings.CutSuffix(ref.Name().String(), "^{}"); ok {
			peeled[plumbing.ReferenceName(base)] = ref.Hash()
		} else if ref.Name().IsTag() {
			advertised[ref.Name()] = ref.Hash()
		}
	}
	for name, h := range advertised {
		if p, ok := peeled[name]; ok {
			advertised[name] = p
			continue
		}
		// A server that does not advertise peeled tags: peel what the clone has; a tag
		// object it lacks stays as it is and compares unequal, the safe side.
		if p, err := peel(repo, h); err == nil {
			advertised[name] = p
		}
	}
	return advertised, nil
}

func (t *tagTarget) pushRef(ctx context.Context, conn connection, ref plumbing.ReferenceName, force bool) error {
	spec := config.RefSpec(ref + ":" + ref)
	if force {
		spec = "+" + spec
	}
	var progress bytes.Buffer
	err := t.remote.PushContext(ctx, &git.PushOptions{
		RemoteName: t.name,
		RefSpecs:   []config.RefSpec{spec},
		Auth:       conn.auth,
		CABundle:   conn.caBundle,
		// Collects what the server says, such as why a hook refused the push.
		Progress: &progress,
	})
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return fmt.Errorf("push tag %s to %s: %w%s", ref.Short(), t, t.explain(err), serverSaid(progress.String()))
}

// serverSaid quotes the end of the server's messages.
func serverSaid(progress string) string {
	const limit = 1000
	msg := strings.Join(strings.Fields(progress), " ")
	if msg == "" {
		return ""
	}
	if len(msg) > limit {
		msg = "..." + msg[len(msg)-limit:]
	}
	return fmt.Sprintf(" (the server said: %s)", msg)
}

// tagsOf returns the repository's tags, each with the commit it points to.
func tagsOf(repo *git.Repository) (map[plumbing.ReferenceName]plumbing.Hash, error) {
	iter, err := repo.Tags()
	if err != nil {
		return nil, err
	}
	out := map[plumbing.ReferenceName]plumbing.Hash{}
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		target, err := peel(repo, ref.Hash())
		if err != nil {
			return fmt.Errorf("tag %s: %w", ref.Name().Short(), err)
		}
		out[ref.Name()] = target
		return nil
	})
	return out, err
}

// checkTagNamespace refuses a tag that git could not store beside the tags of where: a ref
// refs/tags/prod excludes refs under refs/tags/prod/, and the reverse.
func checkTagNamespace(req TagRequest, tags map[plumbing.ReferenceName]plumbing.Hash, where string) error {
	if req.Moving {
		prefix := "refs/tags/" + req.Env + "/"
		for name := range tags {
			if strings.HasPrefix(name.String(), prefix) {
				return fmt.Errorf("the moving tag %s cannot be created: %s has the tag %s, and git cannot hold a tag %s beside tags under %s/; promote %s with %s/<name> tags, or delete those first",
					req.Env, where, name.Short(), req.Env, req.Env, req.Env, req.Env)
			}
		}
		return nil
	}
	if _, ok := tags[plumbing.NewTagReferenceName(req.Env)]; ok {
		return fmt.Errorf("tag %s cannot be created: %s has the moving tag %s, and git cannot hold a tag %s beside tags under %s/; promote %s with the moving tag, or delete it first",
			req.tagName(), where, req.Env, req.Env, req.Env, req.Env)
	}
	return nil
}

// createTag creates the annotated tag, replacing a moving tag that exists.
func createTag(repo *git.Repository, req TagRequest, tag string, commit plumbing.Hash, replace bool, now time.Time) error {
	tagger, err := taggerFor(repo, req.Tagger, now)
	if err != nil {
		return err
	}
	msg := req.Message
	if msg == "" {
		msg = fmt.Sprintf("promote %s to %s", commit.String()[:shortCommitLen], req.Env)
	}
	if replace {
		if err := repo.DeleteTag(tag); err != nil {
			return fmt.Errorf("remove the previous tag: %w", err)
		}
	}
	_, err = repo.CreateTag(tag, commit, &git.CreateTagOptions{Tagger: &tagger, Message: msg})
	return err
}

// restoreTag puts the local tag back as it was before a failed push: removed, or at its
// previous target.
func restoreTag(repo *git.Repository, ref plumbing.ReferenceName, prev *plumbing.Reference, dir string) error {
	var err error
	if prev != nil {
		err = repo.Storer.SetReference(prev)
	} else {
		err = repo.Storer.RemoveReference(ref)
	}
	if err != nil {
		return fmt.Errorf("restore the local tag %s in %s after the failed push: %w; delete it (git tag -d %s) before retrying", ref.Short(), dir, err, ref.Short())
	}
	return nil
}

// taggerFor completes sig as git would: from the configuration, else a fixed identity.
func taggerFor(repo *git.Repository, sig object.Signature, now time.Time) (object.Signature, error) {
	if sig.Name == "" || sig.Email == "" {
		cfg, err := repo.ConfigScoped(config.SystemScope)
		if err != nil {
			return sig, fmt.Errorf("read the git configuration for the tagger's identity: %w; set the tagger explicitly", err)
		}
		if sig.Name == "" {
			sig.Name = firstNonEmpty(cfg.Committer.Name, cfg.User.Name, defaultTaggerName)
		}
		if sig.Email == "" {
			sig.Email = firstNonEmpty(cfg.Committer.Email, cfg.User.Email, defaultTaggerEmail)
		}
	}
	if sig.When.IsZero() {
		sig.When = now
	}
	return sig, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
