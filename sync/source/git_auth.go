package source

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// connection is what every request to the remote needs, read fresh from the
// configured files.
type connection struct {
	auth     transport.AuthMethod
	caBundle []byte
}

func (g *Git) connection() (connection, error) {
	var c connection
	a := g.opts.Auth
	switch {
	case a.TokenFile != "":
		token, err := readToken(a.TokenFile)
		if err != nil {
			return c, err
		}
		c.auth = &githttp.BasicAuth{Username: orDefault(a.Username, defaultUsername), Password: token}
	case a.SSHKeyFile != "":
		auth, err := g.sshAuth()
		if err != nil {
			return c, err
		}
		c.auth = auth
	}
	if g.opts.CAFile != "" {
		ca, err := os.ReadFile(g.opts.CAFile)
		if err != nil {
			return c, fmt.Errorf("read CA file: %w", err)
		}
		c.caBundle = ca
	}
	return c, nil
}

func readToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("token file %s is empty; write the access token into it", path)
	}
	if strings.ContainsAny(token, "\r\n") {
		return "", fmt.Errorf("token file %s holds more than one line; it must hold only the access token", path)
	}
	return token, nil
}

func (g *Git) sshAuth() (transport.AuthMethod, error) {
	a := g.opts.Auth
	user := orDefault(g.endpoint.User, orDefault(a.Username, defaultUsername))
	keyData, err := os.ReadFile(a.SSHKeyFile)
	if err != nil {
		return nil, fmt.Errorf("read SSH key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(keyData)
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("SSH key %s is protected by a passphrase; use a key without one (a deploy key kept in a Secret)", a.SSHKeyFile)
		}
		return nil, fmt.Errorf("SSH key %s: %w", a.SSHKeyFile, err)
	}
	keys := &gitssh.PublicKeys{User: user, Signer: signer}
	// known_hosts is mandatory: go-git would otherwise fall back to
	// ~/.ssh/known_hosts, which does not exist in a container.
	if _, err := os.Stat(a.KnownHostsFile); err != nil {
		return nil, fmt.Errorf("known_hosts: %w; refusing to connect without host key verification", err)
	}
	callback, err := gitssh.NewKnownHostsCallback(a.KnownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts %s: %w", a.KnownHostsFile, err)
	}
	keys.HostKeyCallback = callback
	return keys, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
