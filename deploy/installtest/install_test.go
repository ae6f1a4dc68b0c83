package installtest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/gitops-agent/gitops-agent/localcluster/clustertest"
	"github.com/gitops-agent/gitops-agent/sync/reconcile"
)

// TestInstall applies deploy/ to the local cluster, runs the freshly built agent with the
// installed ServiceAccount's rights and the shipped configuration, and shows that those rights
// are enough to sync every example environment and allow nothing else.
func TestInstall(t *testing.T) {
	needCluster(t)
	ctx := t.Context()
	admin := kubernetes.NewForConfigOrDie(cluster.RESTConfig())
	install := renderPath(t, "deploy")
	shipped := shippedConfig(t, install)

	t.Run("apply", func(t *testing.T) {
		applyInstall(ctx, t, cluster.RESTConfig(), install)
		// The Secret the README asks for; without it the pods would not start on real nodes.
		webhooks := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "gitops-agent-webhooks", Namespace: agentNamespace},
			StringData: map[string]string{"github": "installtest-webhook-secret"},
		}
		if _, err := admin.CoreV1().Secrets(agentNamespace).Create(ctx, webhooks, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The pods are admitted under the namespace's restricted Pod Security Standard, and
		// become ready on the fake nodes: the Deployment is valid as installed.
		waitDeploymentAvailable(ctx, t, admin, agentNamespace, agentName)
	})
	if t.Failed() {
		return
	}

	t.Run("agent syncs every environment", func(t *testing.T) {
		repo, repoURL := serveDeployments(t)
		cfg := localConfig(t, shipped, repoURL)
		if !*cfg.LeaderElection.Enabled {
			t.Fatal("the shipped configuration has leader election off")
		}
		const podName = "gitops-agent-installtest"
		began := time.Now()
		a := startAgent(t, cfg, serviceAccountKubeconfig(t), podName)
		first := head(t, repo)
		want := map[string]string{}
		for _, e := range cfg.Environments {
			want[e.Name] = first
		}
		waitApplied(ctx, t, 3*time.Minute, want)
		t.Logf("%d environments Applied and Ready at %.12s in %s", len(want), first, time.Since(began).Round(100*time.Millisecond))

		lease, err := admin.CoordinationV1().Leases(agentNamespace).Get(ctx, shipped.LeaderElection.LeaseName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("leader election on, but no Lease: %v", err)
		}
		if holder := ptrValue(lease.Spec.HolderIdentity); !strings.HasPrefix(holder, podName+"_") {
			t.Errorf("Lease %s/%s is held by %q, want the agent %s", agentNamespace, lease.Name, holder, podName)
		}

		// Prune: an object that leaves git is deleted with the ServiceAccount's rights.
		const env, namespace, kustomization = "sandbox-pilot1", "sandbox-pilot1", "environments/sandbox-pilot1/kustomization.yaml"
		original, err := os.ReadFile(filepath.Join(repo.Work, kustomization))
		if err != nil {
			t.Fatal(err)
		}
		added := push(t, repo, "a ConfigMap to prune", map[string]string{
			kustomization: withResource(t, original, "installtest-prune.yaml"),
			"environments/sandbox-pilot1/installtest-prune.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: installtest-prune\ndata:\n  purpose: pruned by the agent\n",
		})
		a.notifyPush(t, cfg)
		waitApplied(ctx, t, time.Minute, map[string]string{env: added})
		if _, err := admin.CoreV1().ConfigMaps(namespace).Get(ctx, "installtest-prune", metav1.GetOptions{}); err != nil {
			t.Fatalf("the agent applied commit %.12s, but: %v", added, err)
		}
		removed := push(t, repo, "the ConfigMap leaves git", map[string]string{
			kustomization: string(original),
			"environments/sandbox-pilot1/installtest-prune.yaml": "",
		})
		a.notifyPush(t, cfg)
		waitApplied(ctx, t, time.Minute, map[string]string{env: removed})
		if _, err := admin.CoreV1().ConfigMaps(namespace).Get(ctx, "installtest-prune", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap %s/installtest-prune after commit %.12s removed it: want NotFound, got %v", namespace, removed, err)
		}

		for _, line := range a.logLines(t, "forbidden") {
			t.Errorf("the agent was refused a request: %s", line)
		}
	})

	t.Run("service account may do nothing else", func(t *testing.T) {
		unrelated := clustertest.Namespace(t, admin)
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "not-for-the-agent", Namespace: unrelated}, StringData: map[string]string{"password": "s3cret"}}
		if _, err := admin.CoreV1().Secrets(unrelated).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		config := theObject(t, install, "ConfigMap", agentNamespace, "config").GetName()
		sa := kubernetes.NewForConfigOrDie(asServiceAccount())

		type attrs = authorizationv1.ResourceAttributes
		for _, tc := range []struct {
			name    string
			attrs   attrs
			allowed bool
		}{
			// Positive controls: without them a broken impersonation, which denies
			// everything, would pass the test.
			{"reads Secrets it applies", attrs{Verb: "get", Resource: "secrets", Namespace: "healthcare-dev", Name: "any"}, true},
			{"applies Deployments", attrs{Verb: "patch", Group: "apps", Resource: "deployments", Namespace: "imaging-prod", Name: "any"}, true},
			{"applies its managed Namespace", attrs{Verb: "patch", Resource: "namespaces", Namespace: "sandbox-pilot1", Name: "sandbox-pilot1"}, true},
			{"installs its CRD", attrs{Verb: "patch", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Name: "environments.gitops-agent.io"}, true},
			{"renews its Lease", attrs{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: agentNamespace, Name: shipped.LeaderElection.LeaseName}, true},

			{"Secrets in kube-system", attrs{Verb: "get", Resource: "secrets", Namespace: "kube-system", Name: "any"}, false},
			{"Secrets in an unrelated namespace", attrs{Verb: "get", Resource: "secrets", Namespace: unrelated, Name: secret.Name}, false},
			{"Secrets of every namespace", attrs{Verb: "list", Resource: "secrets"}, false},
			{"Secrets in its own namespace", attrs{Verb: "get", Resource: "secrets", Namespace: agentNamespace, Name: "gitops-agent-webhooks"}, false},
			// Drift detection watches what it applies; get already reads any Secret of a
			// managed namespace by name, so watching there reveals nothing more than names.
			{"watch Secrets it applies", attrs{Verb: "watch", Resource: "secrets", Namespace: "healthcare-dev"}, true},
			{"watch Secrets in an unrelated namespace", attrs{Verb: "watch", Resource: "secrets", Namespace: unrelated}, false},
			{"ConfigMaps in kube-system", attrs{Verb: "get", Resource: "configmaps", Namespace: "kube-system", Name: "any"}, false},
			{"its own configuration", attrs{Verb: "update", Resource: "configmaps", Namespace: agentNamespace, Name: config}, false},
			{"create ClusterRoles", attrs{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, false},
			{"create ClusterRoleBindings", attrs{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}, false},
			{"create Roles in a managed namespace", attrs{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "roles", Namespace: "healthcare-dev"}, false},
			{"create RoleBindings in a managed namespace", attrs{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "rolebindings", Namespace: "healthcare-dev"}, false},
			{"impersonate", attrs{Verb: "impersonate", Resource: "users", Name: "admin"}, false},
			{"create Namespaces", attrs{Verb: "create", Resource: "namespaces", Name: "anything"}, false},
			{"delete kube-system", attrs{Verb: "delete", Resource: "namespaces", Namespace: "kube-system", Name: "kube-system"}, false},
			{"patch an unrelated Namespace", attrs{Verb: "patch", Resource: "namespaces", Namespace: unrelated, Name: unrelated}, false},
			{"another CRD", attrs{Verb: "patch", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Name: "servicemonitors.monitoring.coreos.com"}, false},
			{"list CRDs", attrs{Verb: "list", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}, false},
			{"Deployments in an unrelated namespace", attrs{Verb: "create", Group: "apps", Resource: "deployments", Namespace: unrelated}, false},
			{"pods in a managed namespace", attrs{Verb: "create", Resource: "pods", Namespace: "healthcare-dev"}, false},
			{"exec into pods", attrs{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "healthcare-dev", Name: "any"}, false},
			{"tokens of ServiceAccounts", attrs{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Namespace: "healthcare-dev", Name: "default"}, false},
			{"Nodes", attrs{Verb: "list", Resource: "nodes"}, false},
			{"another Lease", attrs{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: "kube-system", Name: "kube-scheduler"}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &tc.attrs}}
				got, err := sa.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if got.Status.Allowed != tc.allowed {
					t.Errorf("%s %+v: allowed %v, want %v (%s)", serviceAccount, tc.attrs, got.Status.Allowed, tc.allowed, got.Status.Reason)
				}
			})
		}

		// The same, through real requests.
		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"read a Secret in an unrelated namespace", func() error {
				_, err := sa.CoreV1().Secrets(unrelated).Get(ctx, secret.Name, metav1.GetOptions{})
				return err
			}},
			{"list Secrets in kube-system", func() error {
				_, err := sa.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{})
				return err
			}},
			{"read its own configuration", func() error {
				_, err := sa.CoreV1().ConfigMaps(agentNamespace).Get(ctx, config, metav1.GetOptions{})
				return err
			}},
			{"create a ClusterRole", func() error {
				role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "installtest-escalation"}, Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}}
				_, err := sa.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
				return err
			}},
			{"create a Namespace", func() error {
				_, err := sa.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "installtest-forbidden"}}, metav1.CreateOptions{})
				return err
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.call(); !apierrors.IsForbidden(err) {
					t.Errorf("%s: want Forbidden, got %v", tc.name, err)
				}
			})
		}
	})

	// Last: it takes the cluster-wide rights away.
	t.Run("namespaced variant", func(t *testing.T) {
		// deploy/namespaced/ is deploy/ without the cluster-wide objects (as
		// TestNamespacedVariantHasNoClusterScopedObjects checks): take the ClusterRoleBinding
		// away from the installed agent and it holds the Roles of deploy/namespaced/ only.
		if err := admin.RbacV1().ClusterRoleBindings().Delete(ctx, agentName, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		repo, repoURL := serveDeployments(t)
		cfg := localConfig(t, shipped, repoURL)
		a := startAgent(t, cfg, serviceAccountKubeconfig(t), "gitops-agent-namespaced")
		if !a.fetches(t, 30*time.Second) {
			a.stop(t)
			for _, line := range a.logLines(t, "may not") {
				t.Errorf("agent: %s", line)
			}
			t.Fatal("the agent leads but has not fetched the repository within 30s")
		}
		want := map[string]string{}
		for _, e := range cfg.Environments {
			want[e.Name] = head(t, repo)
		}
		waitApplied(ctx, t, 3*time.Minute, want)
		for _, line := range a.logLines(t, "forbidden") {
			t.Errorf("the agent was refused a request: %s", line)
		}
	})
}

// waitDeploymentAvailable waits until every replica of the Deployment is available.
func waitDeploymentAvailable(ctx context.Context, tb testing.TB, cs kubernetes.Interface, namespace, name string) {
	tb.Helper()
	var last *appsv1.Deployment
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = d
		return d.Status.ObservedGeneration >= d.Generation && d.Status.AvailableReplicas == ptrValue(d.Spec.Replicas), nil
	})
	if err != nil {
		var conds []string
		if last != nil {
			for _, c := range last.Status.Conditions {
				conds = append(conds, fmt.Sprintf("%s=%s (%s)", c.Type, c.Status, c.Message))
			}
		}
		var warnings []string
		events, listErr := cs.CoreV1().Events(namespace).List(context.WithoutCancel(ctx), metav1.ListOptions{})
		if listErr != nil {
			warnings = append(warnings, "(events: "+listErr.Error()+")")
		}
		for _, e := range ptrValue(events).Items {
			if e.Type == corev1.EventTypeWarning {
				warnings = append(warnings, e.Reason+": "+e.Message)
			}
		}
		slices.Sort(warnings)
		tb.Fatalf("Deployment %s/%s is not available: %v; conditions %s; warnings %s", namespace, name, err, strings.Join(conds, ", "), strings.Join(slices.Compact(warnings), "; "))
	}
}

// waitApplied waits up to timeout until each environment of want has applied its commit, with
// result Applied and health Ready. A commit that did not render or was refused by policy ends
// the wait at once: no retry changes that.
func waitApplied(ctx context.Context, tb testing.TB, timeout time.Duration, want map[string]string) {
	tb.Helper()
	envs := dynamic.NewForConfigOrDie(cluster.RESTConfig()).Resource(reconcile.EnvironmentGVR).Namespace(agentNamespace)
	state := func(commit string) string {
		return fmt.Sprintf("%.12s %s %s", commit, reconcile.ResultApplied, reconcile.HealthReady)
	}
	wantStates, got := map[string]string{}, map[string]string{}
	for name, commit := range want {
		wantStates[name] = state(commit)
	}
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := envs.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		clear(got)
		for _, env := range list.Items {
			if _, ok := want[env.GetName()]; !ok {
				continue
			}
			commit, _, _ := unstructured.NestedString(env.Object, "status", "lastApplied", "commit")
			result, _, _ := unstructured.NestedString(env.Object, "status", "lastAttempt", "result")
			health, _, _ := unstructured.NestedString(env.Object, "status", "health")
			got[env.GetName()] = fmt.Sprintf("%.12s %s %s", commit, result, health)
			attempted, _, _ := unstructured.NestedString(env.Object, "status", "lastAttempt", "commit")
			if attempted == want[env.GetName()] && (result == string(reconcile.ResultRenderFailed) || result == string(reconcile.ResultInvalid)) {
				message, _, _ := unstructured.NestedString(env.Object, "status", "lastAttempt", "message")
				return false, fmt.Errorf("environment %s: commit %.12s: %s: %s", env.GetName(), attempted, result, message)
			}
		}
		return maps.Equal(got, wantStates), nil
	})
	if err != nil {
		tb.Fatalf("environments (commit result health): got %v, want %v: %v", got, wantStates, err)
	}
}

// withResource returns the kustomization with one more entry in its resources.
func withResource(tb testing.TB, kustomization []byte, resource string) string {
	tb.Helper()
	var k map[string]any
	if err := yaml.Unmarshal(kustomization, &k); err != nil {
		tb.Fatal(err)
	}
	resources, _ := k["resources"].([]any)
	k["resources"] = append(resources, resource)
	out, err := yaml.Marshal(k)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}
