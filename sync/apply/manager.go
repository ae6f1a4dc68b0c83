package apply

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the server-side apply field manager of every write.
const FieldManager = "gitops-agent"

// Labels Apply sets on every object, and which Prune requires before it deletes anything.
const (
	LabelManagedBy   = "app.kubernetes.io/managed-by"
	ManagedByValue   = "gitops-agent"
	LabelEnvironment = "gitops-agent.io/environment"
)

// Annotations a repository sets on an object to change how it is applied or pruned.
const (
	// AnnotationRecreate set to "true" lets Apply delete and create the object again when a
	// change touches an immutable field.
	AnnotationRecreate = "gitops-agent.io/recreate"
	// AnnotationPrune set to PruneDisabled keeps the object in the cluster when the
	// environment stops declaring it.
	AnnotationPrune = "gitops-agent.io/prune"
	PruneDisabled   = "disabled"
)

// minDiscoveryRefresh bounds how often a kind the cluster does not know triggers a discovery
// refresh: every sync of an environment that declares an uninstalled kind would otherwise
// re-read all API groups.
const minDiscoveryRefresh = 5 * time.Second

// Manager applies and prunes objects. It is safe for concurrent use by many environments;
// share one per cluster so that they share its discovery cache.
type Manager struct {
	client dynamic.Interface
	mapper meta.ResettableRESTMapperWithContext

	refreshMu   sync.Mutex
	lastRefresh time.Time

	verified verifiedStates
}

// New returns a Manager that writes through client and maps kinds to resources with mapper.
// The mapper is reset when a kind is unknown and after CRDs are installed, so it should cache
// discovery (restmapper.NewDeferredDiscoveryRESTMapper over memory.NewMemCacheClient).
func New(client dynamic.Interface, mapper meta.ResettableRESTMapper) *Manager {
	return &Manager{client: client, mapper: meta.ToResettableRESTMapperWithContext(mapper)}
}

// NewForConfig returns a Manager for the cluster of cfg with a discovery-backed RESTMapper.
// Apply issues several requests per object concurrently: raise cfg.QPS and cfg.Burst from
// client-go's defaults (5 and 10), which would otherwise throttle it.
func NewForConfig(cfg *rest.Config) (*Manager, error) {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create dynamic client for %s: %w", cfg.Host, err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create discovery client for %s: %w", cfg.Host, err)
	}
	return New(client, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))), nil
}

// mapping returns the resource of gvk, refreshing discovery once when the kind is unknown.
func (m *Manager) mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	mp, err := m.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) && m.refreshDiscovery(ctx, false) {
		mp, err = m.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	}
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("the cluster serves no %s in %s: install its CustomResourceDefinition or correct apiVersion and kind: %w",
			gvk.Kind, gvk.GroupVersion(), err)
	}
	if err != nil {
		return nil, fmt.Errorf("map %s to an API resource: %w", gvk, err)
	}
	return mp, nil
}

// refreshDiscovery drops the cached discovery, at most once per minDiscoveryRefresh unless
// forced, and reports whether it did.
func (m *Manager) refreshDiscovery(ctx context.Context, force bool) bool {
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	if !force && time.Since(m.lastRefresh) < minDiscoveryRefresh {
		return false
	}
	m.mapper.ResetWithContext(ctx)
	m.lastRefresh = time.Now()
	return true
}

// resource returns the client for mapping's resource in namespace (ignored when cluster-scoped).
func (m *Manager) resource(mapping *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return m.client.Resource(mapping.Resource).Namespace(namespace)
	}
	return m.client.Resource(mapping.Resource)
}
