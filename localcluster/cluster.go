package localcluster

import (
	"context"
	"crypto/tls"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// BinDirEnv names the environment variable that points at the directory holding the binaries
// built by deploy/local/build-cluster.sh.
const BinDirEnv = "GITOPS_AGENT_CLUSTER_BIN"

// Binaries the cluster runs, all of which must be in the bin directory.
var binaries = [...]string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// PodBehaviorAnnotation, set on a pod (or a pod template), selects how kwok plays the pod's
// kubelet; see stages.yaml. Without it pods become Ready and Job pods complete.
const PodBehaviorAnnotation = "kwok.gitops-agent.io/behavior"

// Pod behaviours for PodBehaviorAnnotation.
const (
	BehaviorNeverReady     = "never-ready"
	BehaviorImagePullError = "image-pull-error"
	BehaviorFail           = "fail"
)

// serviceCIDR and podCIDR must not overlap: kwok's default pod range is the usual service range.
const (
	serviceCIDR = "10.0.0.0/24"
	podCIDR     = "10.244.0.0/16"
)

//go:embed stages.yaml
var stagesYAML []byte

// Options configure a local cluster. The zero value is usable when BinDirEnv is set.
type Options struct {
	// BinDir holds the binaries; default: the directory named by $GITOPS_AGENT_CLUSTER_BIN.
	BinDir string
	// Dir is where the cluster keeps its data, certificates, kubeconfig and logs. Default: a new
	// temporary directory that Stop removes. A given Dir is kept.
	Dir string
	// APIServerPort is the loopback port of the apiserver; 0 picks a free one.
	APIServerPort int
	// Nodes is the number of fake nodes; default 1.
	Nodes int
	// StartTimeout bounds Start; default 90s (a loaded 2-core machine needs more than the
	// usual ~6s).
	StartTimeout time.Duration
	// Logger receives progress; default: discard.
	Logger *slog.Logger
}

// Cluster is a running local control plane.
type Cluster struct {
	dir, kubeconfig, server string
	removeDir               bool
	restConfig              *rest.Config
	processes               []*process // in start order; stopped in reverse
	stopProvisioner         context.CancelFunc
	provisionerDone         chan struct{}
	startup                 time.Duration
	log                     *slog.Logger
}

// Start runs a new cluster and returns once it serves requests and its nodes are Ready. On
// error everything it started is stopped again.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	began := time.Now()
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkBinaries(opts.BinDir); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	c := &Cluster{dir: opts.Dir, removeDir: opts.Dir == "", log: opts.Logger}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "gitops-agent-cluster-"); err != nil {
			return nil, fmt.Errorf("create cluster directory: %w", err)
		}
	}
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()

	ports, err := reservePorts(opts.APIServerPort, 5)
	if err != nil {
		return nil, err
	}
	apiPort, etcdPort, etcdPeerPort, cmPort, schedPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	c.server = "https://127.0.0.1:" + strconv.Itoa(apiPort)

	pk, err := newPKI(filepath.Join(c.dir, "pki"))
	if err != nil {
		return nil, fmt.Errorf("create certificates in %s: %w", c.dir, err)
	}
	certs, err := issueAll(pk, c.server)
	if err != nil {
		return nil, fmt.Errorf("create certificates in %s: %w", c.dir, err)
	}
	c.kubeconfig = filepath.Join(c.dir, "kubeconfig")
	if err := writeKubeconfig(c.kubeconfig, c.server, pk.caPEM, certs.admin); err != nil {
		return nil, err
	}
	if c.restConfig, err = clientcmd.BuildConfigFromFlags("", c.kubeconfig); err != nil {
		return nil, fmt.Errorf("load %s: %w", c.kubeconfig, err)
	}
	c.restConfig.QPS, c.restConfig.Burst = 200, 400

	logDir := filepath.Join(c.dir, "logs")
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return nil, err
	}
	bin := func(name string) string { return filepath.Join(opts.BinDir, name) }
	run := func(name string, args ...string) (*process, error) {
		p, err := startProcess(name, bin(name), logDir, args)
		if err == nil {
			c.processes = append(c.processes, p)
		}
		return p, err
	}
	step := func(what string, since time.Time) {
		c.log.Info("local cluster: "+what, "after", time.Since(since).Round(time.Millisecond))
	}

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeerPort)
	etcd, err := run("etcd",
		"--name=local", "--data-dir="+filepath.Join(c.dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=local="+peerURL,
		// A throw-away cluster needs no durability, and fsync dominates write latency.
		"--unsafe-no-fsync", "--log-level=warn")
	if err != nil {
		return nil, err
	}
	if err := waitUntil(ctx, "etcd", []*process{etcd}, httpOK(http.DefaultClient, etcdURL+"/health")); err != nil {
		return nil, err
	}
	step("etcd ready", began)

	saKey, saPub, err := pk.serviceAccountKey()
	if err != nil {
		return nil, fmt.Errorf("create service account key: %w", err)
	}
	apiserver, err := run("kube-apiserver",
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(apiPort),
		// The apiserver refuses loopback addresses as endpoints of the kubernetes Service.
		"--endpoint-reconciler-type=none",
		"--cert-dir="+filepath.Join(c.dir, "apiserver"),
		"--tls-cert-file="+certs.apiserver.certFile, "--tls-private-key-file="+certs.apiserver.keyFile,
		"--client-ca-file="+pk.caFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saPub, "--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range="+serviceCIDR,
		"--authorization-mode=RBAC",
		"--allow-privileged=true", "--profiling=false")
	if err != nil {
		return nil, err
	}
	clientset, err := kubernetes.NewForConfig(c.restConfig)
	if err != nil {
		return nil, err
	}
	readyz := func(ctx context.Context) error {
		return clientset.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error()
	}
	if err := waitUntil(ctx, "kube-apiserver /readyz", []*process{etcd, apiserver}, readyz); err != nil {
		return nil, err
	}
	step("kube-apiserver ready", began)

	servingFlags := func(component string, port int) []string {
		return []string{
			"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
			"--cert-dir=" + filepath.Join(c.dir, component),
			// No delegated authentication or authorization: the probes below need only these.
			"--client-ca-file=" + pk.caFile,
			"--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
			"--leader-elect=false",
		}
	}
	cm, err := run("kube-controller-manager", append(servingFlags("kube-controller-manager", cmPort),
		"--kubeconfig="+certs.controllerManager,
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+saKey, "--root-ca-file="+pk.caFile,
		"--cluster-name=gitops-agent-local",
		// Its default lies under /usr/libexec, which may be read-only or not ours to write.
		"--flex-volume-plugin-dir="+filepath.Join(c.dir, "flexvolume"))...)
	if err != nil {
		return nil, err
	}
	sched, err := run("kube-scheduler", append(servingFlags("kube-scheduler", schedPort),
		"--kubeconfig="+certs.scheduler)...)
	if err != nil {
		return nil, err
	}
	stagesPath := filepath.Join(c.dir, "kwok-stages.yaml")
	if err := os.WriteFile(stagesPath, stagesYAML, 0o600); err != nil {
		return nil, err
	}
	kwok, err := run("kwok",
		"--kubeconfig="+certs.kwok, "--config="+stagesPath,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--cidr="+podCIDR, "--node-lease-duration-seconds=40")
	if err != nil {
		return nil, err
	}
	all := []*process{etcd, apiserver, cm, sched, kwok}
	insecureLoopback := &http.Client{Transport: &http.Transport{
		// The components serve self-signed certificates on loopback; only liveness is asked.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
	}}
	if err := waitUntil(ctx, "kube-controller-manager /healthz", all,
		httpOK(insecureLoopback, "https://127.0.0.1:"+strconv.Itoa(cmPort)+"/healthz")); err != nil {
		return nil, err
	}
	if err := waitUntil(ctx, "kube-scheduler /healthz", all,
		httpOK(insecureLoopback, "https://127.0.0.1:"+strconv.Itoa(schedPort)+"/healthz")); err != nil {
		return nil, err
	}
	step("controllers ready", began)

	for i := range opts.Nodes {
		if err := createNode(ctx, clientset, fmt.Sprintf("kwok-node-%d", i)); err != nil {
			return nil, err
		}
	}
	if err := waitUntil(ctx, "fake nodes Ready", all, nodesReady(clientset, opts.Nodes)); err != nil {
		return nil, err
	}
	// Pods are refused until the service account controller has made the namespace's default
	// ServiceAccount; a cluster that is "up" must be able to run pods in default.
	if err := waitUntil(ctx, "default ServiceAccount", all, func(ctx context.Context) error {
		_, err := clientset.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	}); err != nil {
		return nil, err
	}
	provisionerCtx, stopProvisioner := context.WithCancel(context.Background())
	c.stopProvisioner, c.provisionerDone = stopProvisioner, make(chan struct{})
	go func() {
		defer close(c.provisionerDone)
		runProvisioner(provisionerCtx, clientset, c.log)
	}()
	c.startup = time.Since(began)
	step("ready", began)
	return c, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.BinDir == "" {
		o.BinDir = os.Getenv(BinDirEnv)
	}
	if o.BinDir == "" {
		return o, fmt.Errorf("local cluster: no binaries: set %s to the directory printed by deploy/local/build-cluster.sh (or run `make cluster-bin`)", BinDirEnv)
	}
	if o.Nodes <= 0 {
		o.Nodes = 1
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 90 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o, nil
}

// checkBinaries refuses a bin directory that a build left incomplete: each binary must have the
// stamp build-cluster.sh writes only after the binary was moved into place.
func checkBinaries(dir string) error {
	var missing []string
	for _, name := range binaries {
		if _, err := os.Stat(filepath.Join(dir, "."+name+".built")); err != nil {
			missing = append(missing, name)
			continue
		}
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.Mode()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("local cluster: %s not built in %s: run deploy/local/build-cluster.sh (or `make cluster-bin`)", strings.Join(missing, ", "), dir)
	}
	return nil
}

// reservePorts returns n free loopback ports; the first is wanted when non-zero. The listeners
// are held until all ports are chosen, so no two of them are the same.
func reservePorts(wanted, n int) ([]int, error) {
	ports := make([]int, 0, n)
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for i := range n {
		addr := "127.0.0.1:0"
		if i == 0 && wanted != 0 {
			addr = "127.0.0.1:" + strconv.Itoa(wanted)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			if i == 0 && wanted != 0 {
				return nil, fmt.Errorf("local cluster: port %d on 127.0.0.1 is already in use (another local cluster?): stop it or choose another port", wanted)
			}
			return nil, fmt.Errorf("local cluster: reserve a loopback port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

type clusterCerts struct {
	apiserver                          keyPair
	admin                              keyPair
	controllerManager, scheduler, kwok string // kubeconfig paths
}

func issueAll(pk *pki, server string) (clusterCerts, error) {
	var cc clusterCerts
	var err error
	if cc.apiserver, err = pk.issue("apiserver", "kube-apiserver", nil, true); err != nil {
		return cc, err
	}
	if cc.admin, err = pk.issue("admin", "gitops-agent-admin", []string{"system:masters"}, false); err != nil {
		return cc, err
	}
	// The controller manager and scheduler use their well-known identities, which the
	// apiserver's bootstrap RBAC policy grants exactly what they need.
	for _, id := range []struct {
		name, user string
		out        *string
	}{
		{"kube-controller-manager", "system:kube-controller-manager", &cc.controllerManager},
		{"kube-scheduler", "system:kube-scheduler", &cc.scheduler},
	} {
		kp, err := pk.issue(id.name, id.user, nil, false)
		if err != nil {
			return cc, err
		}
		if *id.out, err = pk.kubeconfig(id.name, server, kp); err != nil {
			return cc, err
		}
	}
	// kwok writes the status of every node and pod, as a kubelet of each node would.
	if cc.kwok, err = pk.kubeconfig("kwok", server, cc.admin); err != nil {
		return cc, err
	}
	return cc, nil
}

func httpOK(client *http.Client, url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s: %s", url, resp.Status, body)
		}
		return nil
	}
}

func createNode(ctx context.Context, cs kubernetes.Interface, name string) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:        name,
		Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
		Labels: map[string]string{
			"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			"type": "kwok",
		},
	}}
	_, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create fake node %s: %w", name, err)
	}
	return nil
}

func nodesReady(cs kubernetes.Interface, want int) func(context.Context) error {
	return func(ctx context.Context) error {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready < want {
			return fmt.Errorf("%d of %d nodes Ready", ready, want)
		}
		return nil
	}
}

// RESTConfig returns a client configuration with cluster-admin rights. Each call returns a
// copy the caller may change.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.restConfig) }

// KubeconfigPath is the admin kubeconfig (context "gitops-agent-local").
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// Server is the apiserver URL.
func (c *Cluster) Server() string { return c.server }

// Dir is the cluster's directory: data, certificates, kubeconfig and logs/.
func (c *Cluster) Dir() string { return c.dir }

// StartupDuration is how long Start took, from the first process to Ready nodes.
func (c *Cluster) StartupDuration() time.Duration { return c.startup }

// RSS returns the resident memory of each component, in bytes.
func (c *Cluster) RSS() (map[string]uint64, error) {
	out := make(map[string]uint64, len(c.processes))
	for _, p := range c.processes {
		rss, err := p.rssBytes()
		if err != nil {
			return nil, fmt.Errorf("read memory of %s: %w", p.name, err)
		}
		out[p.name] = rss
	}
	return out, nil
}

// Stop stops every component, newest first, and removes the cluster's directory if Start made
// it. It is safe to call more than once.
func (c *Cluster) Stop() error {
	var errs []error
	if c.stopProvisioner != nil {
		c.stopProvisioner()
		<-c.provisionerDone
		c.stopProvisioner = nil
	}
	for i := len(c.processes) - 1; i >= 0; i-- {
		if err := c.processes[i].stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	c.processes = nil
	if c.removeDir && c.dir != "" {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", c.dir, err))
		}
		c.dir = ""
	}
	return errors.Join(errs...)
}
