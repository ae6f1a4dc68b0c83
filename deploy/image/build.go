package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// build assembles the image opts describe, writes it to opts.out and returns its digest.
func build(ctx context.Context, opts options) (v1.Hash, error) {
	arch, err := inspectBinary(opts.binary)
	if err != nil {
		return v1.Hash{}, err
	}
	binary, err := os.ReadFile(opts.binary)
	if err != nil {
		return v1.Hash{}, err
	}
	var caBundle []byte
	if opts.caBundle != "" {
		if caBundle, err = os.ReadFile(opts.caBundle); err != nil {
			return v1.Hash{}, fmt.Errorf("--ca-bundle: %w", err)
		}
	}
	img, err := assemble(arch, layerFiles(binary, caBundle), opts)
	if err != nil {
		return v1.Hash{}, err
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image digest: %w", err)
	}
	return digest, writeTarball(ctx, opts, img)
}

// assemble puts files in a layer on an empty base and describes how to run them.
func assemble(arch string, files []file, opts options) (v1.Image, error) {
	raw, err := layerTar(files, opts.created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: opts.created}, CreatedBy: "go run ./deploy/image", Comment: "gitops-agent " + opts.version},
	})
	if err != nil {
		return nil, fmt.Errorf("add the layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image configuration: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	cfg.Created = v1.Time{Time: opts.created}
	cfg.Author = opts.source
	cfg.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", nonRootID, nonRootID),
		Entrypoint: []string{entrypoint},
		Cmd:        []string{"run", "--config", "/etc/gitops-agent/agent.yaml"},
		WorkingDir: workingDir,
		Env: []string{
			"PATH=/usr/local/bin",
			"HOME=/home/nonroot",
			"SSL_CERT_FILE=" + caBundlePath,
		},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Labels: map[string]string{
			"org.opencontainers.image.title":       "gitops-agent",
			"org.opencontainers.image.description": "GitOps reconciler for Kubernetes: renders, validates and applies per-environment kustomize overlays",
			"org.opencontainers.image.version":     opts.version,
			"org.opencontainers.image.revision":    opts.revision,
			"org.opencontainers.image.source":      opts.source,
			"org.opencontainers.image.created":     opts.created.Format("2006-01-02T15:04:05Z"),
		},
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("image configuration: %w", err)
	}
	return img, nil
}

// writeTarball writes img as a docker-archive to opts.out through a temporary file, so that an
// interrupted build never leaves a truncated tarball behind.
func writeTarball(ctx context.Context, opts options, img v1.Image) error {
	dir := filepath.Dir(opts.out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := tarball.Write(opts.tag, img, tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", opts.out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", opts.out, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), opts.out)
}
