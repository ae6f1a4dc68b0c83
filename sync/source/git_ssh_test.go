package source_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gitops-agent/gitops-agent/sync/source"
)

// sshServer is a real SSH server that runs git-upload-pack for exec
// requests, as GitHub's does, for the repositories under root.
type sshServer struct {
	addr    string
	hostKey ssh.PublicKey
}

func startSSHServer(t *testing.T, root string, authorized ssh.PublicKey) sshServer {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), authorized.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("key not authorized")
		},
	}
	config.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSSH(conn, config, root)
		}
	}()
	return sshServer{addr: ln.Addr().String(), hostKey: hostSigner.PublicKey()}
}

func serveSSH(conn net.Conn, config *ssh.ServerConfig, root string) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, config)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for newCh := range chans {
		if newCh.ChannelType() != "session" {
			_ = newCh.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := newCh.Accept()
		if err != nil {
			return
		}
		go serveSession(ch, chReqs, root)
	}
}

func serveSession(ch ssh.Channel, reqs <-chan *ssh.Request, root string) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" || len(req.Payload) < 4 {
			_ = req.Reply(false, nil)
			continue
		}
		// The command is "git-upload-pack '/app.git'".
		command := string(req.Payload[4:])
		service, arg, _ := strings.Cut(command, " ")
		path := filepath.Join(root, filepath.Clean("/"+strings.Trim(arg, "'")))
		if service != "git-upload-pack" {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		cmd := exec.Command(service, path)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return
		}
		cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
		status := uint32(1)
		if err := cmd.Start(); err == nil {
			go func() {
				_, _ = io.Copy(stdin, ch)
				stdin.Close()
			}()
			if cmd.Wait() == nil {
				status = 0
			}
		}
		_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
		return
	}
}

func TestGitSSH(t *testing.T) {
	r := newRemote(t, remoteOptions{})
	dir := t.TempDir()
	clientPub, clientKey := sshKeyFile(t, dir, "id_ed25519", "")
	_, otherKey := sshKeyFile(t, dir, "other", "")
	_, lockedKey := sshKeyFile(t, dir, "locked", "passphrase")
	srv := startSSHServer(t, filepath.Dir(r.repo.Bare), clientPub)
	url := "ssh://git@" + srv.addr + "/app.git"

	otherHost, _, _ := ed25519.GenerateKey(rand.Reader)
	otherHostKey, _ := ssh.NewPublicKey(otherHost)
	knownHosts := writeFile(t, filepath.Join(dir, "known_hosts"), knownhosts.Line([]string{knownhosts.Normalize(srv.addr)}, srv.hostKey)+"\n")
	wrongKey := writeFile(t, filepath.Join(dir, "known_hosts_wrong"), knownhosts.Line([]string{knownhosts.Normalize(srv.addr)}, otherHostKey)+"\n")
	otherHosts := writeFile(t, filepath.Join(dir, "known_hosts_other"), knownhosts.Line([]string{"github.com"}, otherHostKey)+"\n")

	tests := []struct {
		name       string
		key        string
		knownHosts string
		wantErr    string // empty: success
	}{
		{name: "authorized key and known host", key: clientKey, knownHosts: knownHosts},
		{name: "host key changed", key: clientKey, knownHosts: wrongKey, wantErr: "host key differs from the one in " + wrongKey},
		{name: "host not in known_hosts", key: clientKey, knownHosts: otherHosts, wantErr: "host key is not in " + otherHosts},
		{name: "key not authorized", key: otherKey, knownHosts: knownHosts, wantErr: "the server refused the SSH key " + otherKey},
		{name: "key with a passphrase", key: lockedKey, knownHosts: knownHosts, wantErr: "protected by a passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGit(t, source.GitOptions{URL: url, Auth: source.Auth{SSHKeyFile: tt.key, KnownHostsFile: tt.knownHosts}})
			ch, err := g.Fetch(t.Context())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Fetch error = %v, want one containing %q", err, tt.wantErr)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := r.git(t, "rev-parse", "HEAD"); ch.After.Head != want {
				t.Errorf("head = %s, want %s", ch.After.Head, want)
			}
			head := r.commitAndPush(t, map[string]string{"over-ssh": "1"})
			ch, err = g.Fetch(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if ch.After.Head != head {
				t.Errorf("head after a push = %s, want %s", ch.After.Head, head)
			}
		})
	}
}

// sshKeyFile writes a new ed25519 private key to dir/name, encrypted when
// passphrase is set.
func sshKeyFile(t *testing.T, dir, name, passphrase string) (ssh.PublicKey, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sshPub, writeFile(t, filepath.Join(dir, name), string(pem.EncodeToMemory(block)))
}
