package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitops-agent/gitops-agent/localcluster"
)

func runDev(ctx context.Context, c *cli, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "cluster":
			return runDevCluster(ctx, c, args[1:])
		case "run":
			return runDevRun(ctx, c, args[1:])
		}
	}
	fmt.Fprintf(c.stderr, "usage: gitops-agent dev cluster|run [flags]\n  cluster  a throw-away local cluster\n  run      a local cluster, this repository's deployments over git smart HTTP, and the agent following them\n")
	return exitError
}

// runDevCluster runs a local cluster until interrupted and says how to use it.
func runDevCluster(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("dev cluster", flag.ContinueOnError)
	opts := localcluster.Options{Logger: c.logger}
	fs.StringVar(&opts.BinDir, "bin-dir", os.Getenv(localcluster.BinDirEnv), "directory of the binaries built by deploy/local/build-cluster.sh (default $"+localcluster.BinDirEnv+")")
	fs.StringVar(&opts.Dir, "dir", "", "directory for the cluster's data, certificates and logs (default: a temporary directory removed on exit)")
	fs.IntVar(&opts.APIServerPort, "port", 0, "apiserver port on 127.0.0.1 (default: any free port)")
	fs.IntVar(&opts.Nodes, "nodes", 1, "number of fake (kwok) nodes")
	kubeconfigOut := fs.String("kubeconfig", "", "also copy the admin kubeconfig to this path")
	if ok, code := parseFlags(fs, c, args); !ok {
		return code
	}
	cluster, err := localcluster.Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(c.stderr, "dev cluster: %v\n", err)
		return exitError
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintf(c.stderr, "dev cluster: stop: %v\n", err)
		}
	}()
	kubeconfig := cluster.KubeconfigPath()
	if *kubeconfigOut != "" {
		data, err := os.ReadFile(kubeconfig)
		if err == nil {
			err = os.MkdirAll(filepath.Dir(*kubeconfigOut), 0o700)
		}
		if err == nil {
			err = os.WriteFile(*kubeconfigOut, data, 0o600)
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "dev cluster: copy kubeconfig to %s: %v\n", *kubeconfigOut, err)
			return exitError
		}
		kubeconfig = *kubeconfigOut
	}
	fmt.Fprintf(c.stdout, "local cluster ready in %s\n  apiserver:  %s\n  kubeconfig: %s\n  logs:       %s\n\n  export KUBECONFIG=%s\n  kubectl get nodes\n\nCtrl-C stops the cluster.\n",
		cluster.StartupDuration().Round(1e6), cluster.Server(), kubeconfig, filepath.Join(cluster.Dir(), "logs"), kubeconfig)
	<-ctx.Done()
	fmt.Fprintf(c.stdout, "stopping the local cluster\n")
	return exitOK
}
