package health

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/compute.golden from the current results")

func readFixture(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Decoded the way client-go decodes API responses: integers are int64.
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatalf("testdata/%s.yaml: %v", name, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		t.Fatalf("testdata/%s.yaml: %v", name, err)
	}
	return u
}

// TestCompute judges every fixture. The status is spelled out here; the messages, which people
// read, are in testdata/compute.golden (go test -run TestCompute -update rewrites it).
func TestCompute(t *testing.T) {
	lb := Options{WaitForLoadBalancer: true}
	tests := []struct {
		fixture string
		opts    Options
		want    Status
	}{
		{"deployment-available", Options{}, Current},
		{"deployment-not-observed", Options{}, InProgress},
		{"deployment-rolling-out", Options{}, InProgress},
		{"deployment-old-replicas", Options{}, InProgress},
		{"deployment-unavailable", Options{}, InProgress},
		{"deployment-deadline-exceeded", Options{}, Failed},
		{"statefulset-ready", Options{}, Current},
		{"statefulset-not-ready", Options{}, InProgress},
		{"statefulset-rolling-update", Options{}, InProgress},
		{"statefulset-ondelete-old-revision", Options{}, Current},
		{"statefulset-partitioned", Options{}, Current},
		{"daemonset-ready", Options{}, Current},
		{"daemonset-updating", Options{}, InProgress},
		{"replicaset-ready", Options{}, Current},
		{"replicaset-replica-failure", Options{}, InProgress},
		{"pod-ready", Options{}, Current},
		{"pod-not-ready", Options{}, InProgress},
		{"pod-image-pull-error", Options{}, Failed},
		{"pod-crash-loop", Options{}, Failed},
		{"pod-unschedulable", Options{}, InProgress},
		{"pod-succeeded", Options{}, Current},
		{"pod-failed", Options{}, Failed},
		{"job-complete", Options{}, Current},
		{"job-failed", Options{}, Failed},
		{"job-running", Options{}, InProgress},
		{"job-suspended", Options{}, Current},
		{"persistentvolumeclaim-bound", Options{}, Current},
		{"persistentvolumeclaim-pending", Options{}, InProgress},
		{"persistentvolumeclaim-lost", Options{}, Failed},
		{"service-clusterip", lb, Current},
		{"service-loadbalancer-pending", Options{}, Current},
		{"service-loadbalancer-pending", lb, InProgress},
		{"service-loadbalancer-ready", lb, Current},
		{"namespace-active", Options{}, Current},
		{"namespace-terminating", Options{}, Terminating},
		{"customresourcedefinition-established", Options{}, Current},
		{"customresourcedefinition-names-not-accepted", Options{}, Failed},
		{"customresourcedefinition-pending", Options{}, InProgress},
		{"widget-ready", Options{}, Current},
		{"widget-not-ready", Options{}, InProgress},
		{"widget-stalled", Options{}, Failed},
		{"widget-reconciling", Options{}, InProgress},
		{"widget-not-observed", Options{}, InProgress},
		{"configmap-exists", Options{}, Current},
	}
	var golden strings.Builder
	for _, tt := range tests {
		name := tt.fixture
		if tt.opts.WaitForLoadBalancer {
			name += "/wait-for-load-balancer"
		}
		t.Run(name, func(t *testing.T) {
			got, err := Compute(readFixture(t, tt.fixture), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want {
				t.Errorf("status %s (%s), want %s", got.Status, got.Message, tt.want)
			}
			fmt.Fprintf(&golden, "%s: %s: %s\n", name, got.Status, got.Message)
		})
	}
	const path = "testdata/compute.golden"
	if *update {
		if err := os.WriteFile(path, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), golden.String()); diff != "" {
		t.Errorf("messages differ from %s (-want +got), run with -update if intended:\n%s", path, diff)
	}
}

func TestComputeReportsUnreadableStatus(t *testing.T) {
	obj := readFixture(t, "deployment-available")
	if err := unstructured.SetNestedField(obj.Object, "three", "status", "replicas"); err != nil {
		t.Fatal(err)
	}
	got, err := Compute(obj, Options{})
	if err == nil || got.Status != Unknown {
		t.Errorf("Compute = %+v, %v; want Unknown and an error", got, err)
	}
}
