package drift

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/gitops-agent/gitops-agent/render"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// Applier is what heals: *apply.Manager satisfies it.
type Applier interface {
	Apply(ctx context.Context, objs []*unstructured.Unstructured, opts apply.ApplyOptions) (apply.ChangeSet, error)
}

// Options configure a Detector; zero fields take the defaults below.
type Options struct {
	// Resync is the informers' safety-net resync, which compares every watched object again.
	Resync time.Duration
	// HealBackoff is the delay after an object's first heal before the next; it doubles with
	// each heal within FlapWindow, up to maxHealBackoff.
	HealBackoff time.Duration
	// FlapThreshold heals of one object within FlapWindow mean another writer fights the
	// agent: healing stops for that object.
	FlapThreshold int
	FlapWindow    time.Duration
	// Workers compare objects concurrently; a heal occupies one while it applies.
	Workers int
	// Events receives one Event per drift on the Environment EventTarget names; may be nil.
	Events      record.EventRecorder
	EventTarget func(env string) (*corev1.ObjectReference, bool)
	// Registerer receives the drift metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Log receives one line per drift, heal and stopped heal; nil discards them.
	Log *slog.Logger
	// OnChange is called, without locks held, whenever an environment's Report changes.
	OnChange func(env string)
}

// Defaults of Options.
const (
	DefaultResync        = 10 * time.Minute
	DefaultHealBackoff   = time.Second
	DefaultFlapThreshold = 3
	DefaultFlapWindow    = 5 * time.Minute
	DefaultWorkers       = 4
	// maxHealBackoff caps the delay between two heals of one object.
	maxHealBackoff = time.Minute
)

func (o Options) withDefaults() Options {
	if o.Resync <= 0 {
		o.Resync = DefaultResync
	}
	if o.HealBackoff <= 0 {
		o.HealBackoff = DefaultHealBackoff
	}
	if o.FlapThreshold <= 0 {
		o.FlapThreshold = DefaultFlapThreshold
	}
	if o.FlapWindow <= 0 {
		o.FlapWindow = DefaultFlapWindow
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Detector watches the objects of every environment it was given and keeps each
// environment's drift Report current. Create it with NewDetector, give it environments with
// SetDesired (before or after Run) and call Run once.
//
// Its informers list and watch only objects labelled app.kubernetes.io/managed-by=gitops-agent:
// an object whose label was removed out of band looks deleted, and healing it puts the label
// back.
type Detector struct {
	client  dynamic.Interface
	mapper  meta.RESTMapper
	applier Applier
	opts    Options
	metrics *metrics
	queue   workqueue.TypedRateLimitingInterface[objectKey]
	// kick tells Run that the set of watched resources may have changed.
	kick chan struct{}

	mu      sync.Mutex
	running bool
	envs    map[string]*envState
	watches map[watchKey]*watch
}

// objectKey is what the work queue holds: one object as one informer sees it.
type objectKey struct {
	gvr             schema.GroupVersionResource
	namespace, name string
}

// ident is an object regardless of the API version it is read through.
type ident struct {
	group, resource, namespace, name string
}

func (k objectKey) ident() ident {
	return ident{group: k.gvr.Group, resource: k.gvr.Resource, namespace: k.namespace, name: k.name}
}

// cacheKey is the key of the object in its informer's store.
func (k objectKey) cacheKey() string {
	if k.namespace == "" {
		return k.name
	}
	return k.namespace + "/" + k.name
}

// NewDetector returns a detector that watches through client, maps kinds with mapper and heals
// with applier (which may be nil when no environment self-heals).
func NewDetector(client dynamic.Interface, mapper meta.RESTMapper, applier Applier, opts Options) (*Detector, error) {
	if client == nil || mapper == nil {
		return nil, errors.New("drift detector: a dynamic client and a RESTMapper are required")
	}
	d := &Detector{
		client:  client,
		mapper:  mapper,
		applier: applier,
		opts:    opts.withDefaults(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[objectKey](),
			workqueue.TypedRateLimitingQueueConfig[objectKey]{Name: "drift"}),
		kick:    make(chan struct{}, 1),
		envs:    map[string]*envState{},
		watches: map[watchKey]*watch{},
	}
	// Parse the built-in schema now rather than in the first comparison, which would
	// report the first drift some 150 ms late.
	typeConverter()
	d.metrics = newMetrics(newWatchedCollector(d.watchedCounts))
	if err := d.metrics.register(d.opts.Registerer); err != nil {
		return nil, err
	}
	return d, nil
}

// Report returns env's current drift; an unknown environment has none.
func (d *Detector) Report(env string) Report {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.envs[env]
	if !ok {
		return Report{Env: env}
	}
	return st.report()
}

// wake tells Run to reconcile its informers with the environments' resources.
func (d *Detector) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// refCompare orders references for reports.
func refCompare(a, b render.Ref) int {
	for _, c := range [][2]string{{a.Group, b.Group}, {a.Kind, b.Kind}, {a.Namespace, b.Namespace}, {a.Name, b.Name}, {a.Version, b.Version}} {
		if c[0] != c[1] {
			if c[0] < c[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}
