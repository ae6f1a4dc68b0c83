package localcluster_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/gitops-agent/gitops-agent/localcluster"
	"github.com/gitops-agent/gitops-agent/localcluster/clustertest"
)

var cluster *localcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, func(c *localcluster.Cluster) { cluster = c }))
}

func clientset(t *testing.T) kubernetes.Interface {
	t.Helper()
	if cluster == nil {
		t.Skip("needs the local cluster (not started with -short)")
	}
	cs, err := kubernetes.NewForConfig(cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestClusterReportsItsVersionAndMemory(t *testing.T) {
	cs := clientset(t)
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.Major != "1" || v.GitVersion == "" || v.GitVersion == "v0.0.0-master+$Format:%H$" {
		t.Errorf("server version = %+v, want a real v1.x version", v)
	}
	rss, err := cluster.RSS()
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for name, b := range rss {
		total += b
		t.Logf("%-24s RSS %4d MiB", name, b>>20)
	}
	t.Logf("cluster %s started in %s, total RSS %d MiB", v.GitVersion, cluster.StartupDuration().Round(time.Millisecond), total>>20)
}

func deployment(ns, name, image string, replicas int32, podAnnotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app.kubernetes.io/name": name}
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas:                &replicas,
			ProgressDeadlineSeconds: ptr(int32(8)),
			Selector:                &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: podAnnotations},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: image,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
					},
					ReadinessProbe: probe,
					LivenessProbe:  probe,
				}}},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// rolledOut reports whether the deployment's current spec is fully rolled out and available,
// the way `kubectl rollout status` decides it.
func rolledOut(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	return d.Status.ObservedGeneration >= d.Generation &&
		d.Status.UpdatedReplicas == want && d.Status.Replicas == want &&
		d.Status.AvailableReplicas == want
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func(ctx context.Context) (bool, error)) time.Duration {
	t.Helper()
	start := time.Now()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, cond)
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return time.Since(start)
}

func deploymentCondition(d *appsv1.Deployment, typ appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == typ {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// TestDeploymentRolloutJobAndNamespaceDeletion walks through what every later feature relies
// on: a Deployment becomes Available, an image change rolls out, a Job completes, and a deleted
// namespace really goes away.
func TestDeploymentRolloutJobAndNamespaceDeletion(t *testing.T) {
	ctx := context.Background()
	cs := clientset(t)
	ns := clustertest.Namespace(t, cs)

	d := deployment(ns, "api", "registry.example/api:1.0.0", 3, nil)
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, "Deployment api available", 60*time.Second, func(ctx context.Context) (bool, error) {
		got, err := cs.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
		return err == nil && rolledOut(got), err
	})
	t.Logf("3 replicas available after %s", took.Round(time.Millisecond))

	got, err := cs.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.Spec.Template.Spec.Containers[0].Image = "registry.example/api:1.1.0"
	if _, err := cs.AppsV1().Deployments(ns).Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, "rollout of api:1.1.0", 60*time.Second, func(ctx context.Context) (bool, error) {
		got, err := cs.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
		return err == nil && rolledOut(got), err
	})
	t.Logf("image update rolled out after %s", took.Round(time.Millisecond))
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=api"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Spec.Containers[0].Image != "registry.example/api:1.1.0" {
			t.Errorf("pod %s still runs %s after the rollout", p.Name, p.Spec.Containers[0].Image)
		}
	}

	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migrate"},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr(int32(0)),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "migrate", Image: "registry.example/migrate:1.0.0"}},
			}},
		},
	}
	if _, err := cs.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, "Job migrate complete", 60*time.Second, func(ctx context.Context) (bool, error) {
		j, err := cs.BatchV1().Jobs(ns).Get(ctx, "migrate", metav1.GetOptions{})
		return err == nil && jobCondition(j, batchv1.JobComplete), err
	})
	t.Logf("Job completed after %s", took.Round(time.Millisecond))

	if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, "namespace "+ns+" gone", 90*time.Second, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	t.Logf("namespace deleted after %s", took.Round(time.Millisecond))
}

func jobCondition(j *batchv1.Job, typ batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == typ && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// TestFailuresOnPurpose shows how a test makes a rollout that never becomes Available, an image
// that cannot be pulled and a Job that fails: the pod annotation localcluster.PodBehaviorAnnotation.
// Health gates in later tests are proven with these.
func TestFailuresOnPurpose(t *testing.T) {
	cs := clientset(t)
	ns := clustertest.Namespace(t, cs)

	for _, behavior := range []string{localcluster.BehaviorNeverReady, localcluster.BehaviorImagePullError} {
		t.Run(behavior, func(t *testing.T) {
			ctx := context.Background()
			name := "web-" + behavior
			d := deployment(ns, name, "registry.example/web:2.0.0", 2, map[string]string{localcluster.PodBehaviorAnnotation: behavior})
			if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			var last *appsv1.Deployment
			took := waitFor(t, "progress deadline exceeded", 60*time.Second, func(ctx context.Context) (bool, error) {
				got, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return false, err
				}
				last = got
				c := deploymentCondition(got, appsv1.DeploymentProgressing)
				return c != nil && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded", nil
			})
			if last.Status.AvailableReplicas != 0 {
				t.Errorf("available replicas = %d, want 0", last.Status.AvailableReplicas)
			}
			t.Logf("Deployment reported ProgressDeadlineExceeded after %s", took.Round(time.Millisecond))

			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + name})
			if err != nil {
				t.Fatal(err)
			}
			if len(pods.Items) == 0 {
				t.Fatal("no pods")
			}
			for _, p := range pods.Items {
				if err := checkBehavior(&p, behavior); err != nil {
					t.Error(err)
				}
			}
		})
	}

	t.Run(localcluster.BehaviorFail, func(t *testing.T) {
		ctx := context.Background()
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "smoke"},
			Spec: batchv1.JobSpec{
				BackoffLimit: ptr(int32(1)),
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{localcluster.PodBehaviorAnnotation: localcluster.BehaviorFail}},
					Spec: corev1.PodSpec{
						RestartPolicy: corev1.RestartPolicyNever,
						Containers:    []corev1.Container{{Name: "smoke", Image: "registry.example/smoke:1.0.0"}},
					},
				},
			},
		}
		if _, err := cs.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		took := waitFor(t, "Job smoke failed", 60*time.Second, func(ctx context.Context) (bool, error) {
			j, err := cs.BatchV1().Jobs(ns).Get(ctx, "smoke", metav1.GetOptions{})
			return err == nil && jobCondition(j, batchv1.JobFailed), err
		})
		t.Logf("Job failed after %s", took.Round(time.Millisecond))
	})
}

func checkBehavior(p *corev1.Pod, behavior string) error {
	switch behavior {
	case localcluster.BehaviorNeverReady:
		if p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("pod %s phase %s, want Running", p.Name, p.Status.Phase)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				return fmt.Errorf("pod %s is Ready", p.Name)
			}
		}
	case localcluster.BehaviorImagePullError:
		if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil ||
			p.Status.ContainerStatuses[0].State.Waiting.Reason != "ErrImagePull" {
			return fmt.Errorf("pod %s container statuses %+v, want waiting on ErrImagePull", p.Name, p.Status.ContainerStatuses)
		}
	}
	return nil
}

// TestStatefulSetGetsVolumes: claims of any storage class are provisioned, so StatefulSets with
// volumeClaimTemplates roll out as they would on a real cluster.
func TestStatefulSetGetsVolumes(t *testing.T) {
	ctx := context.Background()
	cs := clientset(t)
	ns := clustertest.Namespace(t, cs)
	labels := map[string]string{"app.kubernetes.io/name": "mysql"}
	class := "fast-ssd"
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mysql"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr(int32(2)),
			ServiceName: "mysql",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "mysql", Image: "mysql:8.4.5",
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/mysql"}},
				}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: &class,
					Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("20Gi")}},
				},
			}},
		},
	}
	if _, err := cs.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, "StatefulSet mysql ready", 60*time.Second, func(ctx context.Context) (bool, error) {
		got, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "mysql", metav1.GetOptions{})
		return err == nil && got.Status.ReadyReplicas == 2 && got.Status.ObservedGeneration >= got.Generation, err
	})
	t.Logf("StatefulSet with 2 claims ready after %s", took.Round(time.Millisecond))
	claims, err := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range claims.Items {
		if c.Status.Phase != corev1.ClaimBound {
			t.Errorf("claim %s is %s, want Bound", c.Name, c.Status.Phase)
		}
	}
}
