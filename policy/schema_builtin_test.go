package policy

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestBuiltinKinds spot-checks that the built-in schemas cover the kinds of every API group of
// the Kubernetes version, at their served versions.
func TestBuiltinKinds(t *testing.T) {
	b, err := newBuiltinSchemas()
	if err != nil {
		t.Fatal(err)
	}
	if b.kubernetes != "1.37" {
		t.Errorf("Kubernetes version = %s, want 1.37 (the release of the pinned k8s.io modules)", b.kubernetes)
	}
	for _, gvk := range []schema.GroupVersionKind{
		{Version: "v1", Kind: "Pod"}, {Version: "v1", Kind: "Service"}, {Version: "v1", Kind: "ConfigMap"},
		{Version: "v1", Kind: "Secret"}, {Version: "v1", Kind: "Namespace"}, {Version: "v1", Kind: "ServiceAccount"},
		{Version: "v1", Kind: "PersistentVolumeClaim"}, {Version: "v1", Kind: "PersistentVolume"},
		{Version: "v1", Kind: "LimitRange"}, {Version: "v1", Kind: "ResourceQuota"}, {Version: "v1", Kind: "ReplicationController"},
		{Group: "apps", Version: "v1", Kind: "Deployment"}, {Group: "apps", Version: "v1", Kind: "StatefulSet"},
		{Group: "apps", Version: "v1", Kind: "DaemonSet"}, {Group: "apps", Version: "v1", Kind: "ReplicaSet"},
		{Group: "batch", Version: "v1", Kind: "Job"}, {Group: "batch", Version: "v1", Kind: "CronJob"},
		{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}, {Group: "networking.k8s.io", Version: "v1", Kind: "IngressClass"},
		{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"}, {Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"},
		{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}, {Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"},
		{Group: "storage.k8s.io", Version: "v1", Kind: "StorageClass"}, {Group: "storage.k8s.io", Version: "v1", Kind: "CSIDriver"},
		{Group: "scheduling.k8s.io", Version: "v1", Kind: "PriorityClass"}, {Group: "node.k8s.io", Version: "v1", Kind: "RuntimeClass"},
		{Group: "coordination.k8s.io", Version: "v1", Kind: "Lease"}, {Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSlice"},
		{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingAdmissionPolicy"},
		{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "MutatingWebhookConfiguration"},
		{Group: "flowcontrol.apiserver.k8s.io", Version: "v1", Kind: "FlowSchema"},
		{Group: "certificates.k8s.io", Version: "v1", Kind: "CertificateSigningRequest"},
		{Group: "resource.k8s.io", Version: "v1", Kind: "ResourceClaim"},
		{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"},
	} {
		k, ok := b.kinds[gvk]
		switch {
		case !ok:
			t.Errorf("%s has no built-in schema", gvk)
		case k.removedIn != "" || k.deprecatedIn != "":
			t.Errorf("%s is marked removed (%q) or deprecated (%q)", gvk, k.removedIn, k.deprecatedIn)
		}
	}
	if len(b.kinds) < 100 {
		t.Errorf("only %d built-in kinds resolved; some API groups are missing", len(b.kinds))
	}
}
