// Package clustertest starts one local cluster per test package and gives each test its own
// namespace, the way integration tests in this repository use the cluster.
package clustertest

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/gitops-agent/gitops-agent/localcluster"
)

// Main starts a cluster, hands it to use, runs the package's tests and stops the cluster. Call
// it from TestMain: os.Exit(clustertest.Main(m, func(c *localcluster.Cluster) { cluster = c })).
// With -short no cluster is started and use is not called: tests that need one skip, so that
// `go test -short ./...` runs the unit tests alone.
func Main(m *testing.M, use func(*localcluster.Cluster)) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cluster, err := localcluster.Start(context.Background(), localcluster.Options{Logger: logger})
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration tests need the local cluster (run them with `make test`): %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "local cluster ready in %s at %s\n", cluster.StartupDuration().Round(time.Millisecond), cluster.Server())
	use(cluster)
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "control-plane logs (kept for this failed run): %s\n", preserveLogs(cluster))
	}
	if err := cluster.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop local cluster: %v\n", err)
	}
	return code
}

// preserveLogs copies the component logs out of the cluster directory, which Stop removes.
func preserveLogs(c *localcluster.Cluster) string {
	dst, err := os.MkdirTemp("", "gitops-agent-cluster-logs-")
	if err != nil {
		return "(could not keep logs: " + err.Error() + ")"
	}
	if err := os.CopyFS(dst, os.DirFS(c.Dir()+"/logs")); err != nil {
		return "(could not keep logs: " + err.Error() + ")"
	}
	return dst
}

// Namespace creates a namespace named after the test and deletes it when the test ends.
func Namespace(t testing.TB, cs kubernetes.Interface) string {
	t.Helper()
	name := strings.ToLower(t.Name())
	name = strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, name)
	if len(name) > 50 {
		name = name[:50]
	}
	name = strings.Trim(name, "-") + fmt.Sprintf("-%d", time.Now().UnixNano()%100000)
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		err := cs.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", name, err)
		}
	})
	return name
}

// Clients are a test's clients of the package's cluster.
type Clients struct {
	Config  *rest.Config
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// Mapper maps kinds to resources through cached discovery.
	Mapper meta.ResettableRESTMapper
}

// NewClients returns clients of c limited to qps and burst (0: client-go's defaults); the
// test skips when no cluster was started (-short).
func NewClients(t testing.TB, c *localcluster.Cluster, qps float32, burst int) Clients {
	t.Helper()
	if c == nil {
		t.Skip("needs the local cluster (not started with -short)")
	}
	cfg := c.RESTConfig()
	cfg.QPS, cfg.Burst = qps, burst
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Clients{Config: cfg, Kube: kube, Dynamic: dyn, Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))}
}
