package health

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitops-agent/gitops-agent/render"
)

// fakeReader serves, for each object, a sequence of states: the n-th read gets the n-th
// fixture, and the last one from then on. An empty sequence means the object does not exist.
type fakeReader struct {
	mu     sync.Mutex
	states map[string][]*unstructured.Unstructured
	reads  map[string]int
}

func newFakeReader(t *testing.T, states map[render.Ref][]string) (*fakeReader, []render.Ref) {
	r := &fakeReader{states: map[string][]*unstructured.Unstructured{}, reads: map[string]int{}}
	var refs []render.Ref
	for ref, fixtures := range states {
		refs = append(refs, ref)
		r.states[ref.String()] = nil
		for _, f := range fixtures {
			r.states[ref.String()] = append(r.states[ref.String()], readFixture(t, f))
		}
	}
	return r, refs
}

func (r *fakeReader) Get(_ context.Context, ref render.Ref) (*unstructured.Unstructured, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seq := r.states[ref.String()]
	if len(seq) == 0 {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: strings.ToLower(ref.Kind) + "s"}, ref.Name)
	}
	n := min(r.reads[ref.String()], len(seq)-1)
	r.reads[ref.String()]++
	return seq[n].DeepCopy(), nil
}

func (r *fakeReader) List(context.Context, schema.GroupVersionKind, string, labels.Selector) ([]unstructured.Unstructured, error) {
	return nil, nil
}

func TestWait(t *testing.T) {
	deploy := render.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}
	job := render.Ref{Group: "batch", Version: "v1", Kind: "Job", Namespace: "shop", Name: "migrate"}
	cm := render.Ref{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "settings"}

	tests := []struct {
		name    string
		states  map[render.Ref][]string
		timeout time.Duration
		want    Aggregate
		// statuses lists each object's final status by reference.
		statuses map[string]Status
		// quick: the result must come long before the timeout.
		quick bool
	}{
		{
			name: "ready once the rollout completes",
			states: map[render.Ref][]string{
				deploy: {"deployment-not-observed", "deployment-rolling-out", "deployment-available"},
				cm:     {"configmap-exists"},
			},
			timeout: time.Minute, want: AggregateReady, quick: true,
			statuses: map[string]Status{deploy.String(): Current, cm.String(): Current},
		},
		{
			name: "a failure ends the wait without waiting for the others",
			states: map[render.Ref][]string{
				deploy: {"deployment-rolling-out"},
				job:    {"job-running", "job-failed"},
			},
			timeout: time.Minute, want: AggregateFailed, quick: true,
			statuses: map[string]Status{deploy.String(): InProgress, job.String(): Failed},
		},
		{
			name:    "timeout while progressing",
			states:  map[render.Ref][]string{deploy: {"deployment-rolling-out"}, cm: {"configmap-exists"}},
			timeout: 200 * time.Millisecond, want: AggregateProgressing,
			statuses: map[string]Status{deploy.String(): InProgress, cm.String(): Current},
		},
		{
			name:    "missing object",
			states:  map[render.Ref][]string{cm: nil},
			timeout: 200 * time.Millisecond, want: AggregateProgressing,
			statuses: map[string]Status{cm.String(): NotFound},
		},
		{name: "nothing to wait for", timeout: time.Minute, want: AggregateReady, quick: true, statuses: map[string]Status{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader, refs := newFakeReader(t, tt.states)
			c := NewChecker(reader, Options{Interval: 10 * time.Millisecond})
			rep, err := c.Wait(context.Background(), refs, tt.timeout)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Aggregate != tt.want {
				t.Errorf("aggregate %s, want %s: %v", rep.Aggregate, tt.want, rep.Err())
			}
			got := map[string]Status{}
			for _, o := range rep.Objects {
				got[o.Ref.String()] = o.Status
			}
			if diff := cmp.Diff(tt.statuses, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if tt.quick && rep.Elapsed > tt.timeout/10 {
				t.Errorf("took %s of a %s timeout", rep.Elapsed, tt.timeout)
			}
			if (rep.Err() == nil) != (tt.want == AggregateReady) {
				t.Errorf("Err() = %v for aggregate %s", rep.Err(), rep.Aggregate)
			}
		})
	}
}

func TestWaitStopsWithTheContext(t *testing.T) {
	deploy := render.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}
	reader, refs := newFakeReader(t, map[render.Ref][]string{deploy: {"deployment-rolling-out"}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rep, err := NewChecker(reader, Options{Interval: 10 * time.Millisecond}).Wait(ctx, refs, time.Minute)
	if err == nil || rep.Aggregate != AggregateProgressing {
		t.Errorf("Wait = %s, %v; want Progressing and the context's error", rep.Aggregate, err)
	}
}

func TestReportErr(t *testing.T) {
	rep := Report{Aggregate: AggregateProgressing, Elapsed: 90 * time.Second, Objects: []ObjectStatus{
		{Ref: render.Ref{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "a"}, Result: Result{Status: Current, Message: "exists"}},
		{Ref: render.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "api"}, Result: Result{Status: InProgress, Message: "1 of 2 replicas ready"}},
	}}
	want := "1 of 2 objects not ready after 1m30s: Deployment.apps/shop/api InProgress: 1 of 2 replicas ready"
	if diff := cmp.Diff(want, rep.Err().Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
