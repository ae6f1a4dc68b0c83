package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// options is what one build was asked for.
type options struct {
	binary   string   // the static Linux executable
	out      string   // the tarball to write
	tag      name.Tag // the name `docker load` gives the image
	version  string
	revision string
	source   string
	created  time.Time // of the image and every file in it
	caBundle string    // PEM certificates for /etc/ssl/certs/ca-certificates.crt; "" for none
}

// parseFlags reads the command line; help and errors are written to stderr.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var opts options
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./deploy/image --binary FILE --out FILE --tag REF --version V --revision SHA --source URL [--created UNIX] [--ca-bundle FILE]\n\n"+
			"Builds the gitops-agent image from a static Linux binary, as a docker-archive tarball.\n\n")
		fs.PrintDefaults()
	}
	tag := fs.String("tag", "", "image reference `docker load` names the image with, registry/repository:tag")
	created := fs.String("created", "0", "creation time of the image and its files, in seconds since 1970 (`git log -1 --format=%ct` for reproducible builds)")
	fs.StringVar(&opts.binary, "binary", "", "static Linux executable of gitops-agent (CGO_ENABLED=0 GOOS=linux go build ./cmd/gitops-agent)")
	fs.StringVar(&opts.out, "out", "", "tarball to write")
	fs.StringVar(&opts.version, "version", "", "label org.opencontainers.image.version")
	fs.StringVar(&opts.revision, "revision", "", "label org.opencontainers.image.revision: the commit built")
	fs.StringVar(&opts.source, "source", "", "label org.opencontainers.image.source: the repository URL")
	fs.StringVar(&opts.caBundle, "ca-bundle", "", "PEM file of CA certificates to install in the image; without it the agent trusts no TLS server")
	if err := fs.Parse(args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var errs []error
	for _, required := range []struct{ flag, value string }{
		{"--binary", opts.binary}, {"--out", opts.out}, {"--tag", *tag},
		{"--version", opts.version}, {"--revision", opts.revision}, {"--source", opts.source},
	} {
		if required.value == "" {
			errs = append(errs, fmt.Errorf("%s is required", required.flag))
		}
	}
	if *tag != "" {
		t, err := name.NewTag(*tag, name.StrictValidation)
		if err != nil {
			errs = append(errs, fmt.Errorf("--tag %q: %w (want registry/repository:tag)", *tag, err))
		}
		opts.tag = t
	}
	secs, err := strconv.ParseInt(*created, 10, 64)
	if err != nil || secs < 0 {
		errs = append(errs, fmt.Errorf("--created %q: want seconds since 1970, such as the output of `git log -1 --format=%%ct`", *created))
	}
	opts.created = time.Unix(secs, 0).UTC()
	return opts, errors.Join(errs...)
}
