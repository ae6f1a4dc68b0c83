// Command kubeconform-schemas turns the Kubernetes OpenAPI v3 spec (api/openapi-spec/v3 of the
// k8s.io/kubernetes module this wrapper module pins) into the JSON schemas kubeconform validates
// against: one standalone file per built-in kind, named as kubeconform's
// "{{ .ResourceKind }}{{ .KindSuffix }}.json" template expects (deployment-apps-v1.json,
// service-v1.json), every definition it needs in its own "definitions" section, and strict:
// objects reject fields their schema does not declare.
//
// kubeconform's usual schemas are downloaded from a web site; deploy/local/build-bench-tools.sh
// runs this instead, so that the comparison benchmark needs nothing but the Go module proxy.
//
// Usage: go run ./kubeconform-schemas -spec DIR -out DIR
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// config is what the command line asks for.
type config struct {
	specDir string
	outDir  string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("kubeconform-schemas", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.specDir, "spec", "", "directory of the Kubernetes OpenAPI v3 spec (api/openapi-spec/v3 of k8s.io/kubernetes)")
	fs.StringVar(&c.outDir, "out", "", "directory to write the schemas to; created if missing")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q; use -spec and -out", fs.Args())
	case c.specDir == "":
		return c, errors.New("-spec is required")
	case c.outDir == "":
		return c, errors.New("-out is required")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubeconform-schemas: %v\n", err)
		return 2
	}
	defs, err := readSpec(ctx, c.specDir)
	if err != nil {
		fmt.Fprintf(stderr, "kubeconform-schemas: %v\n", err)
		return 1
	}
	files, err := kindSchemas(defs)
	if err != nil {
		fmt.Fprintf(stderr, "kubeconform-schemas: %v\n", err)
		return 1
	}
	if err := writeSchemas(ctx, c.outDir, files); err != nil {
		fmt.Fprintf(stderr, "kubeconform-schemas: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "kubeconform-schemas: wrote %d schemas to %s\n", len(files), c.outDir)
	return 0
}
