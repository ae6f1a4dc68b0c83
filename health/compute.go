package health

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Options tune how health is judged and waited for. Start from DefaultOptions.
type Options struct {
	// WaitForLoadBalancer makes a Service of type LoadBalancer Current only once it has an
	// ingress address. Off by default: clusters without a load-balancer controller never
	// assign one.
	WaitForLoadBalancer bool
	// Interval is how often Wait reads the objects that are not Current yet; 0 means the
	// default.
	Interval time.Duration
	// Concurrency bounds the objects Wait reads at once; 0 means the default.
	Concurrency int
}

// Defaults of Options.
const (
	DefaultInterval    = 500 * time.Millisecond
	DefaultConcurrency = 16
)

// DefaultOptions returns the default options.
func DefaultOptions() Options {
	return Options{Interval: DefaultInterval, Concurrency: DefaultConcurrency}
}

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	return o
}

// Compute returns the health of obj from its own fields. The error reports a status that
// could not be read (the result is then Unknown).
func Compute(obj *unstructured.Unstructured, opts Options) (Result, error) {
	if obj.GetDeletionTimestamp() != nil {
		msg := "being deleted"
		if f := obj.GetFinalizers(); len(f) > 0 {
			msg += "; waiting for finalizers " + strings.Join(f, ", ")
		}
		return Result{Status: Terminating, Message: msg}, nil
	}
	gk := obj.GroupVersionKind().GroupKind()
	switch gk.Group + "/" + gk.Kind {
	case "apps/Deployment":
		return typed(obj, deploymentHealth)
	case "apps/StatefulSet":
		return typed(obj, statefulSetHealth)
	case "apps/DaemonSet":
		return typed(obj, daemonSetHealth)
	case "apps/ReplicaSet":
		return typed(obj, replicaSetHealth)
	case "/Pod":
		return typed(obj, podHealth)
	case "batch/Job":
		return typed(obj, jobHealth)
	case "/PersistentVolumeClaim":
		return typed(obj, pvcHealth)
	case "/Service":
		return typed(obj, func(s *corev1.Service) Result { return serviceHealth(s, opts) })
	case "/Namespace":
		return typed(obj, namespaceHealth)
	case "apiextensions.k8s.io/CustomResourceDefinition":
		return typed(obj, crdHealth)
	}
	return genericHealth(obj)
}

// typed converts obj to T and judges it with judge.
func typed[T any](obj *unstructured.Unstructured, judge func(*T) Result) (Result, error) {
	v := new(T)
	if err := fromUnstructured(obj, v); err != nil {
		return Result{Status: Unknown, Message: "cannot read the status"}, err
	}
	return judge(v), nil
}

// replicas returns a replicas field that defaults to 1.
func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}
