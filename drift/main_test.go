package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
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

// Client rate limits of the tests: client-go's default (5 QPS) would measure only itself.
const (
	testQPS   = 500
	testBurst = 1000
)

// rig is a running detector on the local cluster, with one environment named after the
// test's namespace, and everything it says captured.
type rig struct {
	t        testing.TB
	ns, env  string
	cs       kubernetes.Interface
	dyn      dynamic.Interface
	manager  *apply.Manager
	detector *Detector
	registry *prometheus.Registry
	logs     *syncBuffer
	events   *eventLog
	changes  chan string
}

func newRig(t testing.TB, opts Options) *rig {
	t.Helper()
	return newRigWith(t, opts, nil)
}

// newRigWith returns a rig whose detector heals through wrap(manager), or the manager when
// wrap is nil.
func newRigWith(t testing.TB, opts Options, wrap func(*apply.Manager) Applier) *rig {
	t.Helper()
	c := clustertest.NewClients(t, cluster, testQPS, testBurst)
	cs, dyn := c.Kube, c.Dynamic
	manager, err := apply.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns := clustertest.Namespace(t, cs)
	r := &rig{
		t: t, ns: ns, env: ns, cs: cs, dyn: dyn, manager: manager,
		registry: prometheus.NewRegistry(), logs: &syncBuffer{}, events: &eventLog{},
		changes: make(chan string, 1),
	}
	opts.Registerer = r.registry
	opts.Log = slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Events = r.events
	opts.EventTarget = func(env string) (*corev1.ObjectReference, bool) {
		return &corev1.ObjectReference{APIVersion: "gitops-agent.io/v1alpha1", Kind: "Environment", Name: env, UID: types.UID("uid-" + env)}, true
	}
	next := opts.OnChange
	opts.OnChange = func(env string) {
		select {
		case r.changes <- env:
		default:
		}
		if next != nil {
			next(env)
		}
	}
	mapper := c.Mapper
	var applier Applier = manager
	if wrap != nil {
		applier = wrap(manager)
	}
	r.detector, err = NewDetector(dyn, mapper, applier, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.detector.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

// apply applies objs as the rig's environment at commit and hands them to the detector.
func (r *rig) apply(spec EnvSpec, commit string, objs ...*unstructured.Unstructured) {
	r.t.Helper()
	r.detector.Pause(r.env)
	if _, err := r.manager.Apply(context.Background(), objs, apply.DefaultApplyOptions(r.env)); err != nil {
		r.t.Fatalf("apply: %v", err)
	}
	if err := r.detector.SetDesired(r.env, spec, commit, objs); err != nil {
		r.t.Fatalf("SetDesired: %v", err)
	}
	r.detector.Resume(r.env)
}

// waitFor waits until the report satisfies ok and returns it.
func (r *rig) waitFor(what string, timeout time.Duration, ok func(Report) bool) Report {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		rep := r.detector.Report(r.env)
		if ok(rep) {
			return rep
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: not seen within %s; report: %+v", what, timeout, rep)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// object returns the report's entry for the object named name, if any.
func object(rep Report, kind, name string) (ObjectDrift, bool) {
	for _, o := range rep.Objects {
		if o.Ref.Kind == kind && o.Ref.Name == name {
			return o, true
		}
	}
	return ObjectDrift{}, false
}

// metricsText returns the registry's metrics in the text exposition format.
func (r *rig) metricsText() string {
	r.t.Helper()
	mfs, err := r.registry.Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			r.t.Fatal(err)
		}
	}
	return buf.String()
}

// metric returns the value of the series whose text line starts with prefix, -1 when absent.
func (r *rig) metric(prefix string) float64 {
	r.t.Helper()
	for line := range strings.SplitSeq(r.metricsText(), "\n") {
		if strings.HasPrefix(line, prefix+" ") {
			var v float64
			if _, err := fmt.Sscan(strings.TrimPrefix(line, prefix+" "), &v); err == nil {
				return v
			}
		}
	}
	return -1
}

// patch changes an object as field manager manager would, with a JSON merge patch.
func (r *rig) patch(gvr schema.GroupVersionResource, name, manager string, patch map[string]any) {
	r.t.Helper()
	raw, err := json.Marshal(patch)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.dyn.Resource(gvr).Namespace(r.ns).Patch(context.Background(), name, types.MergePatchType, raw, metav1.PatchOptions{FieldManager: manager}); err != nil {
		r.t.Fatalf("patch %s %s as %s: %v", gvr.Resource, name, manager, err)
	}
}

var (
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secrets     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// syncBuffer is a log destination safe for the detector's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventLog is an EventRecorder that keeps every Event as "Type Reason Message".
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) Event(_ runtime.Object, eventType, reason, message string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, eventType+" "+reason+" "+message)
}

func (l *eventLog) Eventf(o runtime.Object, eventType, reason, format string, args ...any) {
	l.Event(o, eventType, reason, fmt.Sprintf(format, args...))
}

func (l *eventLog) AnnotatedEventf(o runtime.Object, _ map[string]string, eventType, reason, format string, args ...any) {
	l.Eventf(o, eventType, reason, format, args...)
}

// all returns the Events so far.
func (l *eventLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

// find returns the first Event with reason whose text contains every word.
func (l *eventLog) find(reason string, words ...string) (string, bool) {
	for _, e := range l.all() {
		if !strings.Contains(e, " "+reason+" ") {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(e, w)
		}
		if ok {
			return e, true
		}
	}
	return "", false
}

// configMap returns a ConfigMap of the rig's namespace.
func (r *rig) configMap(name string, data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": r.ns},
		"data":     data,
	}}
}

// deployment returns a Deployment of the rig's namespace with replicas.
func (r *rig) deployment(name string, replicas int64) *unstructured.Unstructured {
	labels := map[string]any{"app": name}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": r.ns},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{"containers": []any{map[string]any{
					"name": "app", "image": "registry.example/app:1",
					"resources": map[string]any{"requests": map[string]any{"cpu": "0.1", "memory": "64Mi"}},
				}}},
			},
		},
	}}
}

// desiredFor returns the desired object of env with kind and name.
func (d *Detector) desiredFor(env, kind, name string) (*unstructured.Unstructured, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if st, ok := d.envs[env]; ok {
		for _, o := range st.desired {
			if o.ref.Kind == kind && o.ref.Name == name {
				return o.object()
			}
		}
	}
	return nil, fmt.Errorf("%s has no desired %s %s", env, kind, name)
}
