package apply_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/gitops-agent/gitops-agent/localcluster"
	"github.com/gitops-agent/gitops-agent/localcluster/clustertest"
	"github.com/gitops-agent/gitops-agent/sync/apply"
)

var cluster *localcluster.Cluster

// TestMain starts the local cluster, unless -short asks for the unit tests only.
func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, func(c *localcluster.Cluster) { cluster = c }))
}

// The client rate limit of the managers under test. client-go's default (5 QPS) would measure
// only itself; Apply issues one or two requests per object, and the agent's initial sync of
// 10,000 objects in 60 s needs well over 333 requests a second.
const (
	testQPS   = 500
	testBurst = 1000
)

// env is a cluster-backed test's view of the cluster: clients, its namespace and a manager
// whose requests are counted.
type env struct {
	t       testing.TB
	ns      string
	cs      kubernetes.Interface
	dyn     dynamic.Interface
	counter *requestCounter
	manager *apply.Manager
}

// newManager returns a Manager with an empty cache whose writes e.counter counts.
func (e *env) newManager() *apply.Manager {
	e.t.Helper()
	counted := cluster.RESTConfig()
	counted.QPS, counted.Burst = testQPS, testBurst
	counted.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &countingTransport{counter: e.counter, next: rt} })
	m, err := apply.NewForConfig(counted)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func newEnv(t testing.TB) *env {
	t.Helper()
	if cluster == nil {
		t.Skip("needs the local cluster (not started with -short)")
	}
	cfg := cluster.RESTConfig()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ns: clustertest.Namespace(t, cs), cs: cs, dyn: dyn, counter: &requestCounter{}}
	e.manager = e.newManager()
	return e
}

// requestCounter counts the requests that can change the cluster: every method but GET, and
// no dry run.
type requestCounter struct {
	mu     sync.Mutex
	writes []string
}

type countingTransport struct {
	counter *requestCounter
	next    http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet && !slices.Contains(r.URL.Query()["dryRun"], metav1.DryRunAll) {
		c.counter.mu.Lock()
		c.counter.writes = append(c.counter.writes, r.Method+" "+r.URL.Path)
		c.counter.mu.Unlock()
	}
	return c.next.RoundTrip(r)
}

// take returns the writes counted since the last call.
func (c *requestCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.writes
	c.writes = nil
	return w
}

// fixture reads testdata/name, with ${NS} replaced by the test's namespace, as objects.
func (e *env) fixture(name string) []*unstructured.Unstructured {
	e.t.Helper()
	return readObjects(e.t, name, map[string]string{"NS": e.ns})
}

func readObjects(t testing.TB, name string, vars map[string]string) []*unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	text := os.Expand(string(raw), func(k string) string { return vars[k] })
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(text)), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("testdata/%s: %v", name, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// cleanupClusterScoped deletes the cluster-scoped objects among objs when the test ends: the
// test namespace takes only the namespaced ones with it.
func (e *env) cleanupClusterScoped(objs []*unstructured.Unstructured) {
	for _, o := range objs {
		if o.GetNamespace() != "" {
			continue
		}
		gvr := map[string]schema.GroupVersionResource{
			"Namespace":                {Version: "v1", Resource: "namespaces"},
			"CustomResourceDefinition": {Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
			"ClusterRole":              {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
		}[o.GetKind()]
		if gvr.Resource == "" {
			continue
		}
		name := o.GetName()
		e.t.Cleanup(func() {
			err := e.dyn.Resource(gvr).Delete(context.Background(), name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				e.t.Errorf("delete %s %s: %v", gvr.Resource, name, err)
			}
		})
	}
}

// outcome is an entry reduced to what tests compare.
type outcome struct {
	Ref    string
	Action apply.Action
}

func outcomes(cs apply.ChangeSet) []outcome {
	out := make([]outcome, 0, len(cs.Entries))
	for _, e := range cs.Entries {
		out = append(out, outcome{Ref: e.Ref.String(), Action: e.Action})
	}
	return out
}

// all returns the outcome action for every ref.
func all(action apply.Action, refs ...string) []outcome {
	out := make([]outcome, 0, len(refs))
	for _, r := range refs {
		out = append(out, outcome{Ref: r, Action: action})
	}
	return out
}

func (e *env) get(gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, error) {
	return e.dyn.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
}
