package main

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/gitops-agent/gitops-agent/health"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// clusterClients are the clients of one cluster, sharing one HTTP client (connections and rate
// limit) and one discovery cache.
type clusterClients struct {
	kube    kubernetes.Interface
	dynamic dynamic.Interface
	mapper  meta.ResettableRESTMapper
	apply   *apply.Manager
	health  health.Reader
	scheme  *runtime.Scheme
}

func newClusterClients(cfg *rest.Config) (*clusterClients, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("clients for %s: %w", cfg.Host, err)
	}
	kube, err := kubernetes.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("clients for %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("clients for %s: %w", cfg.Host, err)
	}
	disco, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("clients for %s: %w", cfg.Host, err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))
	return &clusterClients{
		kube:    kube,
		dynamic: dyn,
		mapper:  mapper,
		apply:   apply.New(dyn, mapper),
		health:  health.NewClusterReader(dyn, mapper),
		scheme:  scheme.Scheme,
	}, nil
}
