package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const testTag = "registry.example.org/gitops-agent/gitops-agent:v1.2.3-test"

// buildAgent builds ./cmd/gitops-agent as `make image` does: static, for Linux.
func buildAgent(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the agent (not with -short)")
	}
	out := filepath.Join(t.TempDir(), "gitops-agent")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-o", out, "./cmd/gitops-agent")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/gitops-agent: %v\n%s", err, b)
	}
	return out
}

// buildImage runs the command on binary and returns the tarball it wrote.
func buildImage(t *testing.T, binary string, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "image.tar")
	args := append([]string{
		"--binary", binary, "--out", out, "--tag", testTag,
		"--version", "v1.2.3-test", "--revision", "0123456789abcdef0123456789abcdef01234567",
		"--source", "https://github.com/gitops-agent/gitops-agent", "--created", "1700000000",
	}, extra...)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("image %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	return out
}

// TestImageFromFreshBinary builds the image from a freshly built agent and reads it back the
// way `docker load` does.
func TestImageFromFreshBinary(t *testing.T) {
	binary := buildAgent(t)
	path := buildImage(t, binary, "--ca-bundle", "testdata/ca-bundle.pem")

	tag, err := name.NewTag(testTag)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatalf("read %s as docker-archive: %v", path, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	type runSettings struct {
		OS, Architecture, User, WorkingDir string
		Entrypoint, Cmd, Env               []string
		Labels                             map[string]string
	}
	got := runSettings{
		OS: cfg.OS, Architecture: cfg.Architecture, User: cfg.Config.User, WorkingDir: cfg.Config.WorkingDir,
		Entrypoint: cfg.Config.Entrypoint, Cmd: cfg.Config.Cmd, Env: cfg.Config.Env, Labels: cfg.Config.Labels,
	}
	want := runSettings{
		OS: "linux", Architecture: runtime.GOARCH, User: "65532:65532", WorkingDir: "/repo",
		Entrypoint: []string{"/usr/local/bin/gitops-agent"},
		Cmd:        []string{"run", "--config", "/etc/gitops-agent/agent.yaml"},
		Env:        []string{"PATH=/usr/local/bin", "HOME=/home/nonroot", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		Labels: map[string]string{
			"org.opencontainers.image.title":       "gitops-agent",
			"org.opencontainers.image.description": "GitOps reconciler for Kubernetes: renders, validates and applies per-environment kustomize overlays",
			"org.opencontainers.image.version":     "v1.2.3-test",
			"org.opencontainers.image.revision":    "0123456789abcdef0123456789abcdef01234567",
			"org.opencontainers.image.source":      "https://github.com/gitops-agent/gitops-agent",
			"org.opencontainers.image.created":     "2023-11-14T22:13:20Z",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("image configuration (-want +got):\n%s", diff)
	}
	if !cfg.Created.Time.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("created %s, want the --created time", cfg.Created.Time)
	}

	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1: the binary on an empty base", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	entries := readTar(t, rc)
	wantBinary, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Mode     int64
		UID, GID int
		SHA256   [32]byte
	}
	gotEntries := map[string]entry{}
	for _, p := range []string{"usr/local/bin/gitops-agent", "etc/ssl/certs/ca-certificates.crt", "var/cache/gitops-agent/", "tmp/", "repo/"} {
		e, ok := entries[p]
		if !ok {
			t.Errorf("the layer has no %s", p)
			continue
		}
		gotEntries[p] = entry{Mode: e.header.Mode, UID: e.header.Uid, GID: e.header.Gid, SHA256: sha256.Sum256(e.content)}
	}
	empty := sha256.Sum256(nil)
	wantEntries := map[string]entry{
		"usr/local/bin/gitops-agent":        {Mode: 0o755, SHA256: sha256.Sum256(wantBinary)},
		"etc/ssl/certs/ca-certificates.crt": {Mode: 0o644, SHA256: sha256.Sum256(mustRead(t, "testdata/ca-bundle.pem"))},
		"var/cache/gitops-agent/":           {Mode: 0o755, UID: 65532, GID: 65532, SHA256: empty},
		"tmp/":                              {Mode: 0o1777, SHA256: empty},
		"repo/":                             {Mode: 0o755, SHA256: empty},
	}
	if diff := cmp.Diff(wantEntries, gotEntries); diff != "" {
		t.Errorf("layer entries (-want +got):\n%s", diff)
	}
	for p, e := range entries {
		if !e.header.ModTime.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s: modification time %s, want the --created time", p, e.header.ModTime)
		}
	}

	// docker load reads manifest.json and names the image after its RepoTags.
	var manifest []struct{ RepoTags []string }
	if err := json.Unmarshal(tarFile(t, path, "manifest.json"), &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 1 || !cmp.Equal(manifest[0].RepoTags, []string{testTag}) {
		t.Errorf("manifest.json %+v, want one image tagged %s", manifest, testTag)
	}

	// The same inputs make the same image.
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	again, err := tarball.ImageFromPath(buildImage(t, binary, "--ca-bundle", "testdata/ca-bundle.pem"), &tag)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := again.Digest(); err != nil || d != digest {
		t.Errorf("a second build has digest %s (%v), want %s", d, err, digest)
	}
}

func TestInspectBinaryRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, path, want string
	}{
		{"not an executable", "testdata/not-an-executable.txt", "is not a Linux executable"},
		{"missing", "testdata/no-such-file", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := inspectBinary(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("inspectBinary(%s) = %v, want an error containing %q", tc.path, err, tc.want)
			}
		})
	}
	t.Run("dynamically linked", func(t *testing.T) {
		// The system's own shell is a dynamically linked executable nearly everywhere.
		sh, err := exec.LookPath("sh")
		if err != nil {
			t.Skip("no sh on PATH")
		}
		_, err = inspectBinary(sh)
		switch {
		case err == nil:
			t.Skipf("%s is statically linked here", sh)
		case !strings.Contains(err.Error(), "is dynamically linked") || !strings.Contains(err.Error(), "CGO_ENABLED=0"):
			t.Errorf("inspectBinary(%s) = %v, want it refused as dynamically linked", sh, err)
		}
	})
}

func TestParseFlags(t *testing.T) {
	valid := []string{"--binary", "b", "--out", "o.tar", "--tag", "r.example/a/b:1", "--version", "1", "--revision", "abc", "--source", "https://x"}
	for _, tc := range []struct {
		name string
		args []string
		want string // substring of the error; "" for none
	}{
		{"complete", valid, ""},
		{"nothing", nil, "--binary is required\n--out is required\n--tag is required\n--version is required\n--revision is required\n--source is required"},
		{"tag without a tag", append(valid, "--tag", "r.example/a/b"), `--tag "r.example/a/b"`},
		{"created not a number", append(valid, "--created", "yesterday"), `--created "yesterday": want seconds since 1970`},
		{"created negative", append(valid, "--created", "-1"), `--created "-1"`},
		{"stray argument", append(valid, "extra"), `unexpected arguments ["extra"]`},
		{"unknown flag", append(valid, "--platform", "arm64"), "flag provided but not defined: -platform"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args, io.Discard)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("parseFlags(%q) = %v, want no error", tc.args, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("parseFlags(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestBuildRefusesWithoutWriting(t *testing.T) {
	out := filepath.Join(t.TempDir(), "image.tar")
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"--binary", "testdata/not-an-executable.txt", "--out", out, "--tag", testTag,
		"--version", "1", "--revision", "abc", "--source", "https://x"}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "is not a Linux executable") {
		t.Errorf("exit %d, stderr %q; want 1 and the reason", code, stderr.String())
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after a failed build: %v", out, err)
	}
}

type tarEntry struct {
	header  *tar.Header
	content []byte
}

func readTar(t *testing.T, r io.Reader) map[string]tarEntry {
	t.Helper()
	out := map[string]tarEntry{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = tarEntry{header: h, content: content}
	}
}

// tarFile returns the content of the file name in the tarball at path.
func tarFile(t *testing.T, path, name string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, ok := readTar(t, f)[name]
	if !ok {
		t.Fatalf("%s has no %s", path, name)
	}
	return e.content
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
