package source

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Fetch brings the cache up to date with the remote and returns what
// changed. It first lists the remote's refs (one round trip); when they equal
// those of the previous Fetch, nothing else happens, not even disk access.
// Otherwise it opens and checks the cache and fetches the objects. A
// missing, partial or damaged cache is replaced by a fresh clone.
func (g *Git) Fetch(ctx context.Context) (Change, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch, raw, err := g.fetch(ctx)
	if err != nil {
		return Change{}, fmt.Errorf("git source %s (branch %s): %w", g.opts.URL, g.opts.Branch, err)
	}
	g.last, g.lastRaw = ch.After, raw
	return ch, nil
}

// fetch returns the change and the refs now stored, as advertised.
func (g *Git) fetch(ctx context.Context) (Change, map[plumbing.ReferenceName]plumbing.Hash, error) {
	conn, err := g.connection()
	if err != nil {
		return Change{}, nil, err
	}
	advertised, err := g.listRemote(ctx, conn)
	if err != nil {
		return Change{}, nil, err
	}
	if g.lastRaw != nil && maps.Equal(g.lastRaw, advertised) {
		return Change{Before: g.last, After: g.last}, g.lastRaw, nil
	}
	repo, before, reason := g.openCache()
	if repo == nil {
		return g.reclone(ctx, conn, reason)
	}
	if maps.Equal(before.raw, advertised) {
		return Change{Before: before.refs, After: before.refs}, before.raw, nil
	}
	if err := g.fetchInto(ctx, repo, conn); err != nil {
		// Objects the cache claims but lacks make the negotiation fail;
		// only a fresh clone repairs that.
		if errors.Is(err, plumbing.ErrObjectNotFound) && ctx.Err() == nil {
			return g.reclone(ctx, conn, fmt.Sprintf("fetch into cache failed: %v", err))
		}
		return Change{}, nil, err
	}
	after, err := g.readSnapshot(repo)
	if err != nil {
		return g.reclone(ctx, conn, fmt.Sprintf("cache unusable after fetch: %v", err))
	}
	return diffRefs(before.refs, after.refs), after.raw, nil
}

// reclone clones afresh and reports the change since the previous Fetch.
func (g *Git) reclone(ctx context.Context, conn connection, reason string) (Change, map[plumbing.ReferenceName]plumbing.Hash, error) {
	snap, err := g.clone(ctx, conn)
	if err != nil {
		return Change{}, nil, fmt.Errorf("clone (%s): %w", reason, err)
	}
	ch := diffRefs(g.last, snap.refs)
	ch.Cloned, ch.CloneReason = true, reason
	return ch, snap.raw, nil
}

// listRemote returns the remote's branch head and tags as advertised, not
// peeled, to compare with the cache's stored refs.
func (g *Git) listRemote(ctx context.Context, conn connection) (map[plumbing.ReferenceName]plumbing.Hash, error) {
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: remoteName, URLs: []string{g.opts.URL}})
	refs, err := remote.ListContext(ctx, &git.ListOptions{
		Auth:          conn.auth,
		CABundle:      conn.caBundle,
		PeelingOption: git.IgnorePeeled,
	})
	if err != nil {
		return nil, fmt.Errorf("list remote refs: %w", g.explain(err))
	}
	out := map[plumbing.ReferenceName]plumbing.Hash{}
	for _, ref := range refs {
		if ref.Type() == plumbing.HashReference && (ref.Name() == g.branch || ref.Name().IsTag()) {
			out[ref.Name()] = ref.Hash()
		}
	}
	if _, ok := out[g.branch]; !ok {
		return nil, fmt.Errorf("branch %s does not exist on the remote; check the branch name or push the branch", g.opts.Branch)
	}
	return out, nil
}

func (g *Git) fetchInto(ctx context.Context, repo *git.Repository, conn connection) error {
	err := repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: remoteName,
		RemoteURL:  g.opts.URL,
		RefSpecs:   g.refSpecs(),
		Auth:       conn.auth,
		CABundle:   conn.caBundle,
		// The refspecs name the tags; tag following would only add tags
		// reachable from the branch.
		Tags:  git.NoTags,
		Force: true,
		Prune: true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch: %w", g.explain(err))
	}
	return nil
}

// explain adds what to do to the transport errors a user can fix.
func (g *Git) explain(err error) error {
	var keyErr *knownhosts.KeyError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired):
		if g.opts.Auth.TokenFile != "" {
			return fmt.Errorf("the token in %s was rejected; check it is valid and not expired: %w", g.opts.Auth.TokenFile, err)
		}
		return fmt.Errorf("the server requires credentials; set a token file (https) or an SSH key (ssh): %w", err)
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("access denied; the credentials need read access to the repository: %w", err)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("repository not found; check the URL (private repositories also look missing without credentials): %w", err)
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return fmt.Errorf("the repository is empty; push a commit to branch %s: %w", g.opts.Branch, err)
	case errors.As(err, &certErr):
		return fmt.Errorf("the server's TLS certificate is not trusted; if a private CA signed it, set the CA file to that CA's PEM: %w", err)
	case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
		return fmt.Errorf("the server's host key differs from the one in %s; if the key was rotated on purpose, update known_hosts: %w", g.opts.Auth.KnownHostsFile, err)
	case errors.As(err, &keyErr):
		return fmt.Errorf("the server's host key is not in %s; add it (ssh-keyscan) after checking its fingerprint: %w", g.opts.Auth.KnownHostsFile, err)
	case strings.Contains(err.Error(), "ssh: unable to authenticate"):
		// x/crypto/ssh has no typed error for a refused key.
		return fmt.Errorf("the server refused the SSH key %s; add its public key as a deploy key with read access: %w", g.opts.Auth.SSHKeyFile, err)
	}
	return err
}
