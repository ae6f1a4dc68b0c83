// Command image builds the gitops-agent container image without a container engine, from a
// static Linux binary: one layer on an empty base holding the binary at
// /usr/local/bin/gitops-agent, the CA certificates it verifies git hosts and API servers with,
// a passwd entry for user 65532 and the directories it writes to; it runs as 65532:65532 with
// the binary as entrypoint. The image is written as a docker-archive tarball (the format of
// `docker save`), which `docker load -i`, `podman load -i` and `skopeo copy docker-archive:...`
// read. The same files, labels and timestamps give the same image digest.
//
// `make image` runs it:
//
//	go run ./deploy/image --binary bin/image/gitops-agent --out bin/gitops-agent-image.tar \
//	    --tag ghcr.io/gitops-agent/gitops-agent:v1.2.0 --version v1.2.0 \
//	    --revision "$(git rev-parse HEAD)" --source https://github.com/gitops-agent/gitops-agent \
//	    --created "$(git log -1 --format=%ct)" --ca-bundle /etc/ssl/certs/ca-certificates.crt
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run builds and writes the image that args describe; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "image: %v\n", err)
		return 2
	}
	digest, err := build(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "image: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: %s (%s), load it with: docker load -i %s\n", opts.out, opts.tag, digest, opts.out)
	return 0
}
