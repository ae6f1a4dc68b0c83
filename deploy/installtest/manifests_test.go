package installtest

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/gitops-agent/gitops-agent/policy"
)

// TestCheckPasses validates the installation as `gitops-agent check --env ./deploy` does, with
// the repository's policies: nothing may be denied or warned about unless exempted with a
// reason.
func TestCheckPasses(t *testing.T) {
	ctx := context.Background()
	schema, err := policy.NewSchemaValidator(ctx, policy.SchemaOptions{UnknownKind: policy.Deny})
	if err != nil {
		t.Fatal(err)
	}
	rego, err := policy.LoadRegoDir(ctx, filepath.Join(repoRoot, "policies"), policy.DefaultRegoOptions())
	if err != nil {
		t.Fatal(err)
	}
	validator := policy.NewValidator(schema, func() *policy.RegoSet { return rego })

	for _, tc := range []struct {
		path string
		want []string // "rule object (exempted)" of every finding
	}{
		{path: "deploy"},
		{path: "deploy/namespaced"},
		{
			// The ServiceMonitor's CRD comes with the Prometheus Operator, not with the render.
			path: "deploy/installtest/testdata/servicemonitor",
			want: []string{"schema-unknown-kind ServiceMonitor.monitoring.coreos.com/gitops-agent/gitops-agent (exempted)"},
		},
	} {
		t.Run(tc.path, func(t *testing.T) {
			objs := renderPath(t, tc.path)
			findings, err := validator.Validate(ctx, path.Base(tc.path), objs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range findings {
				s := fmt.Sprintf("%s %s", f.Rule, f.Object)
				if f.Exempted != "" {
					s += " (exempted)"
				} else {
					t.Logf("%s %s %s: %s", f.Severity, f.Object, f.Field, f.Message)
				}
				got = append(got, s)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRolesCoverEnvironments checks, without a cluster, that the install gives the agent a Role
// in exactly the namespaces the configured environments declare, and that each Role allows
// what the agent does to every kind there.
func TestRolesCoverEnvironments(t *testing.T) {
	install := renderPath(t, "deploy")
	cfg := shippedConfig(t, install)

	envNamespaces := map[string]bool{}
	// missing holds, per namespace and resource, the verbs its Role lacks and an object that
	// needs them: one error each, however many objects of the kind there are.
	type gap struct{ namespace, resource string }
	missing := map[gap][]string{}
	example := map[gap]string{}
	for _, env := range cfg.Environments {
		for _, o := range renderPath(t, env.Path) {
			ns, kind := o.Obj.GetNamespace(), o.Obj.GetKind()
			verbs := []string{"get", "create", "patch", "delete"}
			if kind == "Namespace" {
				// The Role in a namespace covers its Namespace object, which the install
				// creates: the agent never needs to create it.
				ns, verbs = o.Obj.GetName(), []string{"get", "patch", "delete"}
			}
			if ns == "" {
				t.Errorf("environment %s declares the cluster-scoped %s: add it to deploy/cluster/clusterrole.yaml and to this test", env.Name, o.Ref())
				continue
			}
			envNamespaces[ns] = true
			if len(objectsOf(install, "Role", ns)) == 0 {
				continue // reported below, once per namespace
			}
			rules := rulesOf(t, install, ns)
			gvk := o.Obj.GroupVersionKind()
			resource, _ := meta.UnsafeGuessKindToResource(gvk)
			g := gap{ns, resource.GroupResource().String()}
			for _, verb := range verbs {
				if !allows(rules, verb, gvk.Group, resource.Resource, o.Obj.GetName()) && !slices.Contains(missing[g], verb) {
					missing[g] = append(missing[g], verb)
					example[g] = fmt.Sprintf("environment %s declares %s", env.Name, o.Ref())
				}
			}
		}
	}
	for g, verbs := range missing {
		t.Errorf("%s, but the Role %s/%s does not allow %s on %s: add the kind to deploy/managed-namespace/role.yaml",
			example[g], g.namespace, agentName, strings.Join(verbs, ", "), g.resource)
	}

	var roleNamespaces, namespaceObjects []string
	for _, r := range objectsOf(install, "Role", "*") {
		if r.GetNamespace() != agentNamespace {
			roleNamespaces = append(roleNamespaces, r.GetNamespace())
		}
	}
	for _, n := range objectsOf(install, "Namespace", "") {
		if n.GetName() != agentNamespace {
			namespaceObjects = append(namespaceObjects, n.GetName())
		}
	}
	want := sortedKeys(envNamespaces)
	slices.Sort(roleNamespaces)
	slices.Sort(namespaceObjects)
	if diff := cmp.Diff(want, roleNamespaces); diff != "" {
		t.Errorf("namespaces with a Role for the agent (-the environments' namespaces +deploy/namespaces/): add or remove a folder in deploy/namespaces/\n%s", diff)
	}
	if diff := cmp.Diff(want, namespaceObjects); diff != "" {
		t.Errorf("managed Namespace objects the install creates (-the environments' namespaces +deploy/namespaces/):\n%s", diff)
	}
}

// TestAgentRoleCoversConfiguration checks the agent's Role in its own namespace against the
// shipped configuration: every environment's inventory, the leader Lease, and nothing for
// other ConfigMaps (the agent's configuration among them).
func TestAgentRoleCoversConfiguration(t *testing.T) {
	install := renderPath(t, "deploy")
	cfg := shippedConfig(t, install)
	if cfg.Namespace != agentNamespace || !*cfg.LeaderElection.Enabled {
		t.Fatalf("configuration: namespace %q, leader election %v; want %q with leader election: the install's RBAC and objects assume both",
			cfg.Namespace, *cfg.LeaderElection.Enabled, agentNamespace)
	}
	rules := rulesOf(t, install, agentNamespace)
	type access struct{ verb, group, resource, name string }
	var want []access
	for _, env := range cfg.Environments {
		for _, verb := range []string{"get", "create", "update", "delete"} {
			want = append(want, access{verb, "", "configmaps", "gitops-agent-inventory-" + env.Name})
		}
	}
	for _, verb := range []string{"get", "create", "update"} {
		want = append(want, access{verb, "coordination.k8s.io", "leases", cfg.LeaderElection.LeaseName})
	}
	for _, verb := range []string{"get", "list", "watch", "create", "patch"} {
		want = append(want, access{verb, "gitops-agent.io", "environments", "dev"})
	}
	want = append(want,
		access{"patch", "gitops-agent.io", "environments/status", "dev"},
		access{"create", "", "events", ""},
		access{"patch", "", "events", "dev.1"},
		access{"get", "", "namespaces", agentNamespace},
	)
	for _, a := range want {
		if !allows(rules, a.verb, a.group, a.resource, a.name) {
			t.Errorf("the Role %s/%s does not allow %s on %s %q: deploy/agent/role.yaml must follow deploy/agent/agent.yaml", agentNamespace, agentName, a.verb, a.resource, a.name)
		}
	}
	config := theObject(t, install, "ConfigMap", agentNamespace, "config")
	for _, verb := range []string{"get", "list", "update", "patch", "delete"} {
		if allows(rules, verb, "", "configmaps", config.GetName()) {
			t.Errorf("the Role %s/%s allows %s on the agent's own configuration ConfigMap %s; only inventories are the agent's to read and write", agentNamespace, agentName, verb, config.GetName())
		}
	}
	for _, verb := range []string{"get", "list", "watch"} {
		if allows(rules, verb, "", "secrets", "gitops-agent-webhooks") {
			t.Errorf("the Role %s/%s allows %s on Secrets: the agent's secrets are mounted files", agentNamespace, agentName, verb)
		}
	}
}

// TestDeploymentRunsHardened checks the Deployment's settings that the policies do not enforce
// but the install promises.
func TestDeploymentRunsHardened(t *testing.T) {
	install := renderPath(t, "deploy")
	var d appsv1.Deployment
	typed(t, theObject(t, install, "Deployment", agentNamespace, agentName), &d)
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	type settings struct {
		Replicas                               int32
		ServiceAccount                         string
		RunAsNonRoot                           bool
		RunAsUser, RunAsGroup                  int64
		Seccomp                                corev1.SeccompProfileType
		ReadOnlyRoot, PrivilegeEscalation      bool
		DropCapabilities                       []corev1.Capability
		Liveness, Readiness, Startup           string
		PodNameFrom                            string
		MemoryLimitSet, CPURequest, MemRequest bool
	}
	probe := func(p *corev1.Probe) string {
		if p == nil || p.HTTPGet == nil {
			return ""
		}
		return p.HTTPGet.Path + " " + p.HTTPGet.Port.String()
	}
	got := settings{
		Replicas:       ptrValue(d.Spec.Replicas),
		ServiceAccount: pod.ServiceAccountName,
		Liveness:       probe(c.LivenessProbe), Readiness: probe(c.ReadinessProbe), Startup: probe(c.StartupProbe),
		MemoryLimitSet: !c.Resources.Limits.Memory().IsZero(),
		CPURequest:     !c.Resources.Requests.Cpu().IsZero(), MemRequest: !c.Resources.Requests.Memory().IsZero(),
	}
	if sc := c.SecurityContext; sc != nil {
		got.RunAsNonRoot, got.RunAsUser, got.RunAsGroup = ptrValue(sc.RunAsNonRoot), ptrValue(sc.RunAsUser), ptrValue(sc.RunAsGroup)
		got.ReadOnlyRoot, got.PrivilegeEscalation = ptrValue(sc.ReadOnlyRootFilesystem), sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation
		if sc.Capabilities != nil {
			got.DropCapabilities = sc.Capabilities.Drop
		}
		if sc.SeccompProfile != nil {
			got.Seccomp = sc.SeccompProfile.Type
		}
	}
	for _, e := range c.Env {
		if e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			got.PodNameFrom = e.ValueFrom.FieldRef.FieldPath
		}
	}
	want := settings{
		Replicas: 2, ServiceAccount: agentName,
		RunAsNonRoot: true, RunAsUser: 65532, RunAsGroup: 65532, Seccomp: corev1.SeccompProfileTypeRuntimeDefault,
		ReadOnlyRoot: true, PrivilegeEscalation: false, DropCapabilities: []corev1.Capability{"ALL"},
		Liveness: "/healthz http", Readiness: "/readyz http", Startup: "/healthz http",
		PodNameFrom:    "metadata.name",
		MemoryLimitSet: true, CPURequest: true, MemRequest: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Deployment %s/%s (-want +got):\n%s", agentNamespace, agentName, diff)
	}
}

// TestConfigurationFilesAreMounted checks that every path the shipped configuration names is
// where the Deployment mounts it, so that the agent does not fail at start-up on a missing
// file, and that everything it writes is on an emptyDir (the root filesystem is read-only).
func TestConfigurationFilesAreMounted(t *testing.T) {
	install := renderPath(t, "deploy")
	cfg := shippedConfig(t, install)
	configMap := theObject(t, install, "ConfigMap", agentNamespace, "config")
	var d appsv1.Deployment
	typed(t, theObject(t, install, "Deployment", agentNamespace, agentName), &d)
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]

	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	// mountOf returns the volume mounted at or above file, and the mount.
	mountOf := func(file string) (corev1.Volume, corev1.VolumeMount, bool) {
		for _, m := range c.VolumeMounts {
			if file == m.MountPath || strings.HasPrefix(file, m.MountPath+"/") {
				return volumes[m.Name], m, true
			}
		}
		return corev1.Volume{}, corev1.VolumeMount{}, false
	}

	configFlag := slices.Index(c.Args, "--config")
	if configFlag < 0 || configFlag+1 >= len(c.Args) {
		t.Fatalf("container %s: args %q have no --config FILE", c.Name, c.Args)
	}
	configPath := c.Args[configFlag+1]
	if v, m, ok := mountOf(configPath); !ok || v.ConfigMap == nil || v.ConfigMap.Name != configMap.GetName() || m.SubPath != "agent.yaml" {
		t.Errorf("--config %s: want the key agent.yaml of ConfigMap %s mounted there, got volume %+v mount %+v", configPath, configMap.GetName(), v, m)
	}

	for _, tc := range []struct{ field, path, want string }{
		{"webhooks.github.secretFile", cfg.Webhooks.GitHub.SecretFile, "secret"},
		{"webhooks.gitlab.secretFile", cfg.Webhooks.GitLab.SecretFile, "secret"},
		{"webhooks.gitea.secretFile", cfg.Webhooks.Gitea.SecretFile, "secret"},
		{"webhooks.generic.secretFile", cfg.Webhooks.Generic.SecretFile, "secret"},
		{"repo.auth.tokenFile", cfg.Repo.Auth.TokenFile, "secret"},
		{"repo.auth.sshKeyFile", cfg.Repo.Auth.SSHKeyFile, "secret"},
		{"repo.auth.knownHostsFile", cfg.Repo.Auth.KnownHostsFile, "secret"},
		{"repo.cacheDir", cfg.Repo.CacheDir, "emptyDir"},
		{"temporary files", "/tmp", "emptyDir"},
	} {
		if tc.path == "" {
			continue
		}
		t.Run(tc.field, func(t *testing.T) {
			v, _, ok := mountOf(tc.path)
			got := "not mounted"
			switch {
			case !ok:
			case v.Secret != nil:
				got = "secret"
			case v.EmptyDir != nil:
				got = "emptyDir"
			default:
				got = "another kind of volume"
			}
			if got != tc.want {
				t.Errorf("%s %s: %s, want a %s volume mounted there", tc.field, tc.path, got, tc.want)
			}
		})
	}
}

// TestNamespacedVariantHasNoClusterScopedObjects checks that deploy/namespaced/ can be applied
// by someone without cluster-wide rights.
func TestNamespacedVariantHasNoClusterScopedObjects(t *testing.T) {
	objs := renderPath(t, "deploy/namespaced")
	var clusterScoped []string
	kinds := map[string]bool{}
	for _, o := range objs {
		kinds[o.Obj.GetKind()] = true
		if o.Obj.GetNamespace() == "" {
			clusterScoped = append(clusterScoped, o.Ref().String())
		}
	}
	if len(clusterScoped) > 0 {
		t.Errorf("deploy/namespaced/ has cluster-scoped objects: %s", strings.Join(clusterScoped, ", "))
	}
	want := []string{"ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Role", "RoleBinding", "Service", "ServiceAccount"}
	if diff := cmp.Diff(want, sortedKeys(kinds)); diff != "" {
		t.Errorf("kinds of deploy/namespaced/ (-want +got):\n%s", diff)
	}
	if n, want := len(objectsOf(objs, "Role", "*")), len(objectsOf(renderPath(t, "deploy"), "Role", "*")); n != want {
		t.Errorf("deploy/namespaced/ has %d Roles, deploy/ %d: both must grant the same namespaced rights", n, want)
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func ptrValue[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
