package source

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// GitOptions say which repository and branch to follow and where to keep the
// clone.
type GitOptions struct {
	// URL of the repository: https://, ssh://, scp-like (git@host:path),
	// file:// or a local path. Credentials in the URL are refused; use Auth.
	URL string
	// Branch to follow; "main" when empty.
	Branch string
	// Dir is the cache directory, owned by this source alone (it may be a
	// volume mount point). The bare clone lives in Dir/repo.git; clones in
	// progress in Dir/clone-*.
	Dir string
	// Auth is how to authenticate; the zero value is anonymous.
	Auth Auth
	// CAFile is an optional PEM bundle trusted for https, in addition to the
	// system roots.
	CAFile string
}

// Auth selects one way to authenticate. Files are read on every fetch, so a
// rotated token or key is picked up without a restart.
type Auth struct {
	// Username is the basic-auth user sent with the token ("git" when
	// empty; GitHub accepts any, GitLab OAuth tokens need "oauth2",
	// Bitbucket "x-token-auth"), or the SSH user when the URL has none
	// ("git" when empty).
	Username string
	// TokenFile holds an access token for https (basic auth).
	TokenFile string
	// SSHKeyFile holds an unencrypted private key; KnownHostsFile the
	// server's host keys in OpenSSH known_hosts format. Both are required
	// for ssh: connecting without host key verification is refused.
	SSHKeyFile     string
	KnownHostsFile string
}

// Git follows one branch and all tags of a repository in a bare clone. Its
// methods are safe for concurrent use; fetches are serialised.
type Git struct {
	opts     GitOptions
	branch   plumbing.ReferenceName
	endpoint *transport.Endpoint
	// mu serialises fetches: they share the cache directory.
	mu sync.Mutex
	// last is the state the previous successful Fetch reported (a re-clone
	// reports its change against it, not against nothing) and lastRaw the
	// same refs as advertised, to recognise an unchanged remote without
	// reading the cache. lastRaw is nil until the cache has been checked,
	// and again after Export found it damaged. Guarded by mu.
	last    Refs
	lastRaw map[plumbing.ReferenceName]plumbing.Hash
}

const (
	defaultBranch   = "main"
	defaultUsername = "git"
	remoteName      = "origin"
	repoDirName     = "repo.git"
	clonePattern    = "clone-*"
)

// NewGit validates opts and returns a Git source. It does no network I/O;
// the first Fetch clones.
func NewGit(opts GitOptions) (*Git, error) {
	if opts.URL == "" {
		return nil, errors.New("git source: URL is empty; set the repository URL")
	}
	ep, err := transport.NewEndpoint(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("git source: URL is not a git URL: %w", err)
	}
	// Say which URL without echoing credentials it may hold.
	if ep.Password != "" || (ep.User != "" && isHTTP(ep)) {
		return nil, fmt.Errorf("git source %s: credentials in the URL are refused; put the token in a file and set the token file option", redactedEndpoint(ep))
	}
	if opts.Branch == "" {
		opts.Branch = defaultBranch
	}
	branch := plumbing.NewBranchReferenceName(opts.Branch)
	if err := branch.Validate(); err != nil {
		return nil, fmt.Errorf("git source %s: branch %q: %w", opts.URL, opts.Branch, err)
	}
	if opts.Dir == "" {
		return nil, fmt.Errorf("git source %s: cache directory is empty; set one", opts.URL)
	}
	if opts.Dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, fmt.Errorf("git source %s: cache directory: %w", opts.URL, err)
	}
	if err := validateAuth(ep, opts); err != nil {
		return nil, fmt.Errorf("git source %s: %w", opts.URL, err)
	}
	return &Git{opts: opts, branch: branch, endpoint: ep}, nil
}

// URL is the followed repository's URL; it holds no credentials.
func (g *Git) URL() string { return g.opts.URL }

// Branch is the followed branch.
func (g *Git) Branch() string { return g.opts.Branch }

func validateAuth(ep *transport.Endpoint, opts GitOptions) error {
	a := opts.Auth
	if a.TokenFile != "" && a.SSHKeyFile != "" {
		return errors.New("both a token file and an SSH key are set; choose one")
	}
	if opts.CAFile != "" && ep.Protocol != "https" {
		return fmt.Errorf("a CA file is set but the URL is %s, not https", ep.Protocol)
	}
	switch ep.Protocol {
	case "https", "http":
		if a.SSHKeyFile != "" || a.KnownHostsFile != "" {
			return errors.New("SSH key or known_hosts set for an https URL; use a token file, or an ssh:// URL")
		}
		if a.TokenFile != "" && ep.Protocol == "http" {
			return errors.New("refusing to send the token over plain http; use an https URL")
		}
		if a.TokenFile != "" {
			if _, err := os.Stat(a.TokenFile); err != nil {
				return fmt.Errorf("token file: %w", err)
			}
		}
	case "ssh":
		if a.TokenFile != "" {
			return errors.New("a token file is set for an ssh URL; use an SSH key, or an https URL")
		}
		if a.SSHKeyFile == "" {
			return errors.New("an ssh URL needs an SSH private key file")
		}
		if a.KnownHostsFile == "" {
			return errors.New("an ssh URL needs a known_hosts file: connecting without host key verification is refused (ssh-keyscan HOST > known_hosts, then check the fingerprints)")
		}
		for _, f := range []string{a.SSHKeyFile, a.KnownHostsFile} {
			if _, err := os.Stat(f); err != nil {
				return fmt.Errorf("ssh: %w", err)
			}
		}
	default:
		if a.TokenFile != "" || a.SSHKeyFile != "" || a.KnownHostsFile != "" {
			return fmt.Errorf("credentials are set but a %s URL takes none", ep.Protocol)
		}
	}
	return nil
}

func isHTTP(ep *transport.Endpoint) bool { return ep.Protocol == "http" || ep.Protocol == "https" }

func redactedEndpoint(ep *transport.Endpoint) string {
	c := *ep
	c.User, c.Password = "", ""
	return c.String()
}

// refSpecs fetch the branch and every tag, forcing updates: the branch may be
// force-pushed and promotion tags move.
func (g *Git) refSpecs() []config.RefSpec {
	return []config.RefSpec{
		config.RefSpec(fmt.Sprintf("+%s:%s", g.branch, g.branch)),
		"+refs/tags/*:refs/tags/*",
	}
}

func (g *Git) repoDir() string { return filepath.Join(g.opts.Dir, repoDirName) }

// Open returns the bare clone as a go-git repository for reading commits and trees. Each call
// opens the repository afresh, so objects fetched since an earlier Open are found; fetches only
// ever add objects, so a render may read while a later fetch runs.
func (g *Git) Open() (*git.Repository, error) {
	repo, err := git.PlainOpen(g.repoDir())
	if err != nil {
		return nil, fmt.Errorf("open the clone of %s in %s: %w (the next fetch re-clones it)", redactedEndpoint(g.endpoint), g.repoDir(), err)
	}
	return repo, nil
}
