package drift

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// envIndex indexes cached objects by the environment label.
const envIndex = "env"

// managedSelector selects what the agent applied: the informers cache nothing else.
const managedSelector = apply.LabelManagedBy + "=" + apply.ManagedByValue

// watchKey names one informer: a resource in one namespace, or a cluster-scoped resource
// (namespace ""). Informers are per namespace because the agent's rights are: the install
// grants it list and watch in the namespaces its environments manage, never cluster-wide,
// so that it cannot read the Secrets of unrelated namespaces.
type watchKey struct {
	gvr       schema.GroupVersionResource
	namespace string
}

// watch is one running informer.
type watch struct {
	informer cache.SharedIndexInformer
	stop     context.CancelFunc
	synced   atomic.Bool
	done     chan struct{}
}

// Run starts the informers of the resources the environments use, and stops and starts them
// as environments come and go, and compares changed objects until ctx ends. It returns nil
// then; it can be called once.
func (d *Detector) Run(ctx context.Context) error {
	d.mu.Lock()
	if d.running {
		d.mu.Unlock()
		return errors.New("drift detector: Run called twice")
	}
	d.running = true
	d.mu.Unlock()

	var workers sync.WaitGroup
	for range d.opts.Workers {
		workers.Go(func() {
			for d.processNext(ctx) {
			}
		})
	}
	d.reconcileWatches(ctx)
	for {
		select {
		case <-ctx.Done():
			d.queue.ShutDown()
			workers.Wait()
			d.mu.Lock()
			ws := d.watches
			d.watches = map[watchKey]*watch{}
			d.mu.Unlock()
			for _, w := range ws {
				w.stop()
				<-w.done
			}
			return nil
		case <-d.kick:
			d.reconcileWatches(ctx)
		}
	}
}

// reconcileWatches starts an informer for every resource and namespace an environment uses
// and stops the informers of those none uses any more.
func (d *Detector) reconcileWatches(ctx context.Context) {
	d.mu.Lock()
	need := map[watchKey]bool{}
	for _, st := range d.envs {
		for _, o := range st.desired {
			need[o.key.watchKey()] = true
		}
	}
	var stopped []*watch
	for wk, w := range d.watches {
		if !need[wk] {
			stopped = append(stopped, w)
			delete(d.watches, wk)
		}
	}
	for wk := range need {
		if _, ok := d.watches[wk]; !ok {
			d.watches[wk] = d.startWatch(ctx, wk)
		}
	}
	d.mu.Unlock()
	for _, w := range stopped {
		w.stop()
		<-w.done
	}
}

// startWatch starts the informer of wk. d.mu must be held.
func (d *Detector) startWatch(ctx context.Context, wk watchKey) *watch {
	gvr := wk.gvr
	gi := dynamicinformer.NewFilteredDynamicInformer(d.client, gvr, wk.namespace, d.opts.Resync,
		cache.Indexers{envIndex: indexByEnv},
		func(o *metav1.ListOptions) { o.LabelSelector = managedSelector })
	inf := gi.Informer()
	// Both fail only once the informer runs, which it does not yet.
	_ = inf.SetTransform(compact)
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		d.opts.Log.Warn("drift: watch failed; retrying (check the agent may list and watch this resource)", "resource", gvr.String(), "namespace", wk.namespace, "error", err)
	})
	enqueue := func(obj any) {
		if k, ok := keyFromObject(gvr, obj); ok {
			d.queue.Add(k)
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	})
	wctx, cancel := context.WithCancel(ctx)
	w := &watch{informer: inf, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var run sync.WaitGroup
		run.Go(func() { inf.RunWithContext(wctx) })
		if cache.WaitForCacheSync(wctx.Done(), inf.HasSynced) {
			w.synced.Store(true)
			// Events before the sync were not compared; desired objects absent from the synced
			// cache are deleted: compare them all.
			for _, ck := range inf.GetStore().ListKeys() {
				d.queue.Add(keyOf(gvr, ck))
			}
			d.enqueueResource(wk)
		}
		run.Wait()
	}()
	return w
}

// enqueueResource queues every desired object that wk watches, of every environment that is
// not paused.
func (d *Detector) enqueueResource(wk watchKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, st := range d.envs {
		if st.paused {
			continue
		}
		for _, o := range st.desired {
			if o.key.watchKey() == wk {
				d.queue.Add(o.key)
			}
		}
	}
}

// indexByEnv is the envIndex function.
func indexByEnv(obj any) ([]string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil
	}
	if env := m.GetLabels()[apply.LabelEnvironment]; env != "" {
		return []string{env}, nil
	}
	return nil, nil
}

// keyFromObject returns the queue key of an informer's object or tombstone.
func keyFromObject(gvr schema.GroupVersionResource, obj any) (objectKey, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return keyOf(gvr, t.Key), true
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return objectKey{}, false
	}
	return objectKey{gvr: gvr, namespace: m.GetNamespace(), name: m.GetName()}, true
}

// watchKey returns the key of the informer that watches the object.
func (k objectKey) watchKey() watchKey { return watchKey{gvr: k.gvr, namespace: k.namespace} }

// keyOf returns the queue key of a store key ("namespace/name" or "name").
func keyOf(gvr schema.GroupVersionResource, storeKey string) objectKey {
	ns, name, err := cache.SplitMetaNamespaceKey(storeKey)
	if err != nil {
		return objectKey{gvr: gvr, name: storeKey}
	}
	return objectKey{gvr: gvr, namespace: ns, name: name}
}

// watchedCounts counts the cached objects of every known environment.
func (d *Detector) watchedCounts() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int, len(d.envs))
	for env := range d.envs {
		n := 0
		for _, w := range d.watches {
			keys, err := w.informer.GetIndexer().IndexKeys(envIndex, env)
			if err == nil {
				n += len(keys)
			}
		}
		out[env] = n
	}
	return out
}
