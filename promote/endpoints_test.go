package promote

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// endpointWatch follows the EndpointSlices of a Service and remembers the fewest ready
// endpoints it ever saw once the first was ready.
type endpointWatch struct {
	t      testing.TB
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	slices   map[string][]string // slice name → ready pods
	minReady int                 // -1 until an endpoint was ready
	log      []string            // every change of the ready pods
}

// watchEndpoints starts following the EndpointSlices of Service name.
func (h *harness) watchEndpoints(name string) *endpointWatch {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &endpointWatch{t: h.t, cancel: cancel, done: make(chan struct{}), slices: map[string][]string{}, minReady: -1}
	sel := metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name}
	list, err := h.cs.DiscoveryV1().EndpointSlices(h.ns).List(ctx, sel)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := range list.Items {
		w.observe(watch.Added, &list.Items[i])
	}
	sel.ResourceVersion = list.ResourceVersion
	wi, err := h.cs.DiscoveryV1().EndpointSlices(h.ns).Watch(ctx, sel)
	if err != nil {
		h.t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		defer wi.Stop()
		for ev := range wi.ResultChan() {
			if s, ok := ev.Object.(*discoveryv1.EndpointSlice); ok {
				w.observe(ev.Type, s)
			}
		}
	}()
	h.t.Cleanup(func() { w.stop() })
	return w
}

func (w *endpointWatch) observe(typ watch.EventType, s *discoveryv1.EndpointSlice) {
	var ready []string
	for _, ep := range s.Endpoints {
		if (ep.Conditions.Ready == nil || *ep.Conditions.Ready) && ep.TargetRef != nil {
			ready = append(ready, ep.TargetRef.Name)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if typ == watch.Deleted {
		delete(w.slices, s.Name)
	} else {
		w.slices[s.Name] = ready
	}
	all := w.readyLocked()
	w.log = append(w.log, fmt.Sprintf("%s %s %s: ready %v", time.Now().Format("15:04:05.000"), typ, s.Name, all))
	if len(all) > 0 && w.minReady < 0 {
		w.minReady = len(all)
	}
	if w.minReady >= 0 {
		w.minReady = min(w.minReady, len(all))
	}
}

func (w *endpointWatch) readyLocked() []string {
	var all []string
	for _, r := range w.slices {
		all = append(all, r...)
	}
	slices.Sort(all)
	return all
}

// waitReady waits until n pods whose names start with prefix are the only ready endpoints.
func (w *endpointWatch) waitReady(prefix string, n int, timeout time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		w.mu.Lock()
		all := w.readyLocked()
		w.mu.Unlock()
		if len(all) == n && !slices.ContainsFunc(all, func(p string) bool { return !strings.HasPrefix(p, prefix) }) {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("after %s the ready endpoints are %v, want %d pods %s*", timeout, all, n, prefix)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the watch and returns the fewest ready endpoints seen and the changes.
func (w *endpointWatch) stop() (int, []string) {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.minReady, w.log
}
