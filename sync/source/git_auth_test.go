package source_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-agent/gitops-agent/sync/gitserver"
	"github.com/gitops-agent/gitops-agent/sync/source"
)

func TestGitTokenAuth(t *testing.T) {
	const token = "ghp_s3cr3tt0ken"
	r := newRemote(t, remoteOptions{tls: true, server: gitserver.Options{Username: "x-access-token", Token: token}})
	ca := r.caFile(t)
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good"), token+"\n")
	bad := writeFile(t, filepath.Join(dir, "bad"), "ghp_wrong\n")

	tests := []struct {
		name    string
		opts    source.GitOptions
		wantErr string // empty: success
	}{
		{
			name: "right token",
			opts: source.GitOptions{URL: r.URL, CAFile: ca, Auth: source.Auth{Username: "x-access-token", TokenFile: good}},
		},
		{
			name:    "wrong token",
			opts:    source.GitOptions{URL: r.URL, CAFile: ca, Auth: source.Auth{Username: "x-access-token", TokenFile: bad}},
			wantErr: "the token in " + bad + " was rejected",
		},
		{
			name:    "right token, wrong user name",
			opts:    source.GitOptions{URL: r.URL, CAFile: ca, Auth: source.Auth{TokenFile: good}},
			wantErr: "was rejected",
		},
		{
			name:    "no credentials",
			opts:    source.GitOptions{URL: r.URL, CAFile: ca},
			wantErr: "the server requires credentials",
		},
		{
			name:    "server certificate not trusted",
			opts:    source.GitOptions{URL: r.URL, Auth: source.Auth{Username: "x-access-token", TokenFile: good}},
			wantErr: "certificate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := newGit(t, tt.opts).Fetch(t.Context())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if want := r.git(t, "rev-parse", "HEAD"); ch.After.Head != want {
					t.Errorf("head = %s, want %s", ch.After.Head, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Fetch error = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error reveals the token: %v", err)
			}
			t.Log(err)
		})
	}
}

func TestGitTokenRotation(t *testing.T) {
	const token = "t0ken-one"
	r := newRemote(t, remoteOptions{tls: true, server: gitserver.Options{Token: token}})
	file := writeFile(t, filepath.Join(t.TempDir(), "token"), "expired")
	g := newGit(t, source.GitOptions{URL: r.URL, CAFile: r.caFile(t), Auth: source.Auth{TokenFile: file}})
	if _, err := g.Fetch(t.Context()); err == nil {
		t.Fatal("Fetch with the old token succeeded")
	}
	writeFile(t, file, token)
	if _, err := g.Fetch(t.Context()); err != nil {
		t.Fatalf("Fetch after the token file was rotated: %v", err)
	}
}

func TestNewGitRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	token := writeFile(t, filepath.Join(dir, "token"), "t")
	key := writeFile(t, filepath.Join(dir, "id_ed25519"), "k")
	knownHosts := writeFile(t, filepath.Join(dir, "known_hosts"), "")
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name    string
		opts    source.GitOptions
		wantErr string
	}{
		{"empty URL", source.GitOptions{}, "URL is empty"},
		{"password in URL", source.GitOptions{URL: "https://user:hunter2@example.com/r.git"}, "credentials in the URL are refused"},
		{"token as URL user", source.GitOptions{URL: "https://ghp_abc@example.com/r.git"}, "credentials in the URL are refused"},
		{"bad branch", source.GitOptions{URL: "https://example.com/r.git", Branch: "a..b"}, `branch "a..b"`},
		{"token over plain http", source.GitOptions{URL: "http://example.com/r.git", Auth: source.Auth{TokenFile: token}}, "refusing to send the token over plain http"},
		{"missing token file", source.GitOptions{URL: "https://example.com/r.git", Auth: source.Auth{TokenFile: missing}}, "token file: stat " + missing},
		{"token and key", source.GitOptions{URL: "https://example.com/r.git", Auth: source.Auth{TokenFile: token, SSHKeyFile: key}}, "choose one"},
		{"ssh without key", source.GitOptions{URL: "ssh://git@example.com/r.git"}, "needs an SSH private key"},
		{"ssh without known_hosts", source.GitOptions{URL: "git@example.com:r.git", Auth: source.Auth{SSHKeyFile: key}}, "connecting without host key verification is refused"},
		{"ssh with missing known_hosts", source.GitOptions{URL: "git@example.com:r.git", Auth: source.Auth{SSHKeyFile: key, KnownHostsFile: missing}}, "ssh: stat " + missing},
		{"key for https", source.GitOptions{URL: "https://example.com/r.git", Auth: source.Auth{SSHKeyFile: key, KnownHostsFile: knownHosts}}, "use a token file"},
		{"CA file for ssh", source.GitOptions{URL: "git@example.com:r.git", CAFile: token, Auth: source.Auth{SSHKeyFile: key, KnownHostsFile: knownHosts}}, "not https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Dir = dir
			_, err := source.NewGit(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewGit error = %v, want one containing %q", err, tt.wantErr)
			}
			for _, secret := range []string{"hunter2", "ghp_abc"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error reveals a credential: %v", err)
				}
			}
		})
	}
}
