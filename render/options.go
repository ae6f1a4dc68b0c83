package render

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
)

// DefaultMaxFileBytes is the largest file a render reads unless Options say otherwise.
// Deployment manifests are kilobytes; anything near this is a mistake (a committed archive
// or dump) that should not be loaded into memory.
const DefaultMaxFileBytes = 8 << 20

// DefaultCacheEntries bounds the render cache unless Options say otherwise: a few
// environments times a few recent commits.
const DefaultCacheEntries = 64

// Options set what a Renderer may do. The zero value is usable and as strict as
// DefaultOptions.
type Options struct {
	// AllowRemoteBases lets kustomizations name remote bases (git URLs) and remote files
	// (http/https). Off, such a reference fails the render with ErrRemote before anything
	// is fetched. Renders that used remote content are never cached: their inputs are not
	// in the repository.
	AllowRemoteBases bool
	// AllowHelm lets kustomizations inflate Helm charts (helmCharts,
	// helmChartInflationGenerator), running the helm binary from PATH. Helm reads charts
	// from disk, so charts render only from a directory (RenderDir); RenderCommit refuses
	// them with ErrHelm. Renders that ran helm are never cached.
	AllowHelm bool
	// MaxFileBytes refuses (ErrTooLarge) any file above this size before reading it;
	// zero or less means DefaultMaxFileBytes.
	MaxFileBytes int64
	// CacheEntries bounds the number of cached renders; zero means DefaultCacheEntries and
	// a negative value disables the cache.
	CacheEntries int
}

// DefaultOptions returns the strict defaults: no remote bases, no Helm, files up to
// DefaultMaxFileBytes, a cache of DefaultCacheEntries renders.
func DefaultOptions() Options {
	return Options{MaxFileBytes: DefaultMaxFileBytes, CacheEntries: DefaultCacheEntries}
}

func (o Options) withDefaults() Options {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.CacheEntries == 0 {
		o.CacheEntries = DefaultCacheEntries
	}
	return o
}

// fingerprint is the part of the options that changes what a render produces; it is part
// of every cache key.
func (o Options) fingerprint() string {
	return fmt.Sprintf("remote=%t helm=%t max=%d", o.AllowRemoteBases, o.AllowHelm, o.MaxFileBytes)
}

// krustyOptions configures kustomize itself. Kustomize's own load restriction is turned
// off because it is relative to each kustomization (it forbids overlays reaching
// ../../manifests); the repository boundary is enforced by repoFS instead.
func (o Options) krustyOptions() *krusty.Options {
	k := krusty.MakeDefaultOptions()
	k.LoadRestrictions = types.LoadRestrictionsNone
	// Unspecified is what `kustomize build` uses: legacy ordering unless the
	// kustomization sets sortOptions, and no warning printed when it does.
	k.Reorder = krusty.ReorderOptionUnspecified
	k.PluginConfig = types.DisabledPluginConfig()
	if o.AllowHelm {
		k.PluginConfig.HelmConfig.Enabled = true
		k.PluginConfig.HelmConfig.Command = "helm"
	}
	return k
}
