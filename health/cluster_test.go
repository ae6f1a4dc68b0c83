package health_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gitops-agent/gitops-agent/health"
	"github.com/gitops-agent/gitops-agent/localcluster"
	"github.com/gitops-agent/gitops-agent/localcluster/clustertest"
	"github.com/gitops-agent/gitops-agent/render"
)

var cluster *localcluster.Cluster

// TestMain starts the local cluster, unless -short asks for the unit tests only.
func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, func(c *localcluster.Cluster) { cluster = c }))
}

type env struct {
	cs      kubernetes.Interface
	ns      string
	checker *health.Checker
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := clustertest.NewClients(t, cluster, 0, 0)
	cs, dyn, mapper := c.Kube, c.Dynamic, c.Mapper
	opts := health.DefaultOptions()
	opts.Interval = 250 * time.Millisecond
	checker := health.NewChecker(health.NewClusterReader(dyn, mapper), opts)
	return &env{cs: cs, ns: clustertest.Namespace(t, cs), checker: checker}
}

func deployment(ns, name string, replicas, deadline int32, behavior string) *appsv1.Deployment {
	labels := map[string]string{"app.kubernetes.io/name": name}
	var annotations map[string]string
	if behavior != "" {
		annotations = map[string]string{localcluster.PodBehaviorAnnotation: behavior}
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas:                &replicas,
			ProgressDeadlineSeconds: &deadline,
			Selector:                &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/" + name + ":1.0.0"}}},
			},
		},
	}
}

func job(ns, name, behavior string) *batchv1.Job {
	var annotations map[string]string
	if behavior != "" {
		annotations = map[string]string{localcluster.PodBehaviorAnnotation: behavior}
	}
	backoff := int32(0)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: batchv1.JobSpec{
			BackoffLimit: &backoff,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: annotations},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "job", Image: "registry.example/" + name + ":1.0.0"}},
				},
			},
		},
	}
}

func deploymentRef(ns, name string) render.Ref {
	return render.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: name}
}

func jobRef(ns, name string) render.Ref {
	return render.Ref{Group: "batch", Version: "v1", Kind: "Job", Namespace: ns, Name: name}
}

// TestWaitOnCluster creates workloads that succeed and fail on purpose and waits for them.
func TestWaitOnCluster(t *testing.T) {
	tests := []struct {
		name    string
		create  func(ctx context.Context, cs kubernetes.Interface, ns string) (render.Ref, error)
		timeout time.Duration
		want    health.Aggregate
		// message must appear in the object's final message.
		message string
		// within bounds how long Wait may take.
		within time.Duration
	}{
		{
			name: "Deployment becomes ready",
			create: func(ctx context.Context, cs kubernetes.Interface, ns string) (render.Ref, error) {
				_, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", 2, 600, ""), metav1.CreateOptions{})
				return deploymentRef(ns, "web"), err
			},
			timeout: time.Minute, want: health.AggregateReady, message: "Deployment available: 2 of 2 replicas ready", within: 30 * time.Second,
		},
		{
			name: "never-ready Deployment fails at its progress deadline",
			create: func(ctx context.Context, cs kubernetes.Interface, ns string) (render.Ref, error) {
				_, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", 2, 5, localcluster.BehaviorNeverReady), metav1.CreateOptions{})
				return deploymentRef(ns, "web"), err
			},
			timeout: time.Minute, want: health.AggregateFailed, message: "progress deadline of 5s", within: 40 * time.Second,
		},
		{
			name: "never-ready Deployment is in progress at the timeout",
			create: func(ctx context.Context, cs kubernetes.Interface, ns string) (render.Ref, error) {
				_, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", 2, 600, localcluster.BehaviorNeverReady), metav1.CreateOptions{})
				return deploymentRef(ns, "web"), err
			},
			timeout: 3 * time.Second, want: health.AggregateProgressing, message: "0 of 2 updated replicas available", within: 10 * time.Second,
		},
		{
			// The progress deadline is 10 minutes: only the pods can fail it quickly.
			name: "image pull error fails the Deployment quickly",
			create: func(ctx context.Context, cs kubernetes.Interface, ns string) (render.Ref, error) {
				_, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", 2, 600, localcluster.BehaviorImagePullError), metav1.CreateOptions{})
				return deploymentRef(ns, "web"), err
			},
			timeout: time.Minute, want: health.AggregateFailed, message: "waiting: ErrImagePull", within: 20 * time.Second,
		},
		{
			name: "image pull error fails a Pod",
			create: func(ctx context.Context, cs kubernetes.Interface, ns string) (render.Ref, error) {
				pod := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "single", Annotations: map[string]string{localcluster.PodBehaviorAnnotation: localcluster.BehaviorImagePullError}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/single:9.9.9"}}},
				}
				_, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
				return render.Ref{Version: "v1", Kind: "Pod", Namespace: ns, Name: "single"}, err
			},
			timeout: time.Minute, want: health.AggregateFailed, message: "ErrImagePull", within: 20 * time.Second,
		},
		{
			name: "Job completes",
			create: func(ctx context.Context, cs kubernetes.Interface, ns string) (render.Ref, error) {
				_, err := cs.BatchV1().Jobs(ns).Create(ctx, job(ns, "migrate", ""), metav1.CreateOptions{})
				return jobRef(ns, "migrate"), err
			},
			timeout: time.Minute, want: health.AggregateReady, message: "Job completed", within: 30 * time.Second,
		},
		{
			name: "Job fails",
			create: func(ctx context.Context, cs kubernetes.Interface, ns string) (render.Ref, error) {
				_, err := cs.BatchV1().Jobs(ns).Create(ctx, job(ns, "smoke", localcluster.BehaviorFail), metav1.CreateOptions{})
				return jobRef(ns, "smoke"), err
			},
			timeout: time.Minute, want: health.AggregateFailed, message: "BackoffLimitExceeded", within: 30 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			ref, err := tt.create(ctx, e.cs, e.ns)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := e.checker.Wait(ctx, []render.Ref{ref}, tt.timeout)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s after %s: %s", rep.Aggregate, rep.Elapsed.Round(time.Millisecond), rep.Objects[0])
			if rep.Aggregate != tt.want {
				t.Errorf("aggregate %s, want %s", rep.Aggregate, tt.want)
			}
			if !strings.Contains(rep.Objects[0].Message, tt.message) {
				t.Errorf("message %q does not contain %q", rep.Objects[0].Message, tt.message)
			}
			if rep.Elapsed > tt.within {
				t.Errorf("Wait took %s, want at most %s", rep.Elapsed, tt.within)
			}
		})
	}
}
