package main

import (
	"context"
	"flag"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitops-agent/gitops-agent/policy"
	"github.com/gitops-agent/gitops-agent/render"
)

// kubeFlags select a cluster the way kubectl does: --kubeconfig, $KUBECONFIG, ~/.kube/config,
// or the pod's service account when running in a cluster.
type kubeFlags struct {
	kubeconfig string
	context    string
}

func (k *kubeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "path to a kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	fs.StringVar(&k.context, "context", "", "kubeconfig context to use")
}

func (k kubeFlags) restConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: k.context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no cluster to talk to (set --kubeconfig or --context): %w", err)
	}
	return cfg, nil
}

// dryRunner validates objects with a server-side dry-run apply.
type dryRunner struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func newDryRunner(k kubeFlags) (*dryRunner, error) {
	cfg, err := k.restConfig()
	if err != nil {
		return nil, err
	}
	dyn, mapper, err := policy.DryRunClients(cfg)
	if err != nil {
		return nil, err
	}
	return &dryRunner{dyn: dyn, mapper: mapper}, nil
}

func (d *dryRunner) run(ctx context.Context, env string, objs []render.Object) ([]policy.Finding, error) {
	findings, err := policy.DryRun(ctx, d.dyn, d.mapper, objs)
	if err != nil {
		return nil, fmt.Errorf("server-side dry-run: %w", err)
	}
	for i := range findings {
		findings[i].Env = env
	}
	return findings, nil
}
