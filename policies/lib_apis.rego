# The Kubernetes API versions that current releases no longer serve, for deprecated-api.
# Sources: the Kubernetes deprecated API migration guide.
package gitops.lib

# removed_apis[apiVersion][kind]: where a removed API went (use) and when it went (removed);
# use is "" when the API was dropped without a successor, and instead then says what to do.
removed_apis := {
	"extensions/v1beta1": {
		"Deployment": {"use": "apps/v1", "removed": "1.16"},
		"DaemonSet": {"use": "apps/v1", "removed": "1.16"},
		"ReplicaSet": {"use": "apps/v1", "removed": "1.16"},
		"NetworkPolicy": {"use": "networking.k8s.io/v1", "removed": "1.16"},
		"Ingress": {"use": "networking.k8s.io/v1", "removed": "1.22"},
		"PodSecurityPolicy": {"use": "", "removed": "1.16", "instead": "enforce the Pod Security Standards with pod-security.kubernetes.io/enforce labels on the namespace instead"},
	},
	"apps/v1beta1": {
		"Deployment": {"use": "apps/v1", "removed": "1.16"},
		"StatefulSet": {"use": "apps/v1", "removed": "1.16"},
		"ReplicaSet": {"use": "apps/v1", "removed": "1.16"},
		"ControllerRevision": {"use": "apps/v1", "removed": "1.16"},
	},
	"apps/v1beta2": {
		"Deployment": {"use": "apps/v1", "removed": "1.16"},
		"StatefulSet": {"use": "apps/v1", "removed": "1.16"},
		"DaemonSet": {"use": "apps/v1", "removed": "1.16"},
		"ReplicaSet": {"use": "apps/v1", "removed": "1.16"},
		"ControllerRevision": {"use": "apps/v1", "removed": "1.16"},
	},
	"networking.k8s.io/v1beta1": {
		"Ingress": {"use": "networking.k8s.io/v1", "removed": "1.22"},
		"IngressClass": {"use": "networking.k8s.io/v1", "removed": "1.22"},
	},
	"batch/v1beta1": {
		"CronJob": {"use": "batch/v1", "removed": "1.25"},
	},
	"batch/v2alpha1": {
		"CronJob": {"use": "batch/v1", "removed": "1.21"},
	},
	"policy/v1beta1": {
		"PodDisruptionBudget": {"use": "policy/v1", "removed": "1.25"},
		"PodSecurityPolicy": {"use": "", "removed": "1.25", "instead": "enforce the Pod Security Standards with pod-security.kubernetes.io/enforce labels on the namespace instead"},
	},
	"autoscaling/v2beta1": {
		"HorizontalPodAutoscaler": {"use": "autoscaling/v2", "removed": "1.25"},
	},
	"autoscaling/v2beta2": {
		"HorizontalPodAutoscaler": {"use": "autoscaling/v2", "removed": "1.26"},
	},
	"discovery.k8s.io/v1beta1": {
		"EndpointSlice": {"use": "discovery.k8s.io/v1", "removed": "1.25"},
	},
	"events.k8s.io/v1beta1": {
		"Event": {"use": "events.k8s.io/v1", "removed": "1.25"},
	},
	"node.k8s.io/v1beta1": {
		"RuntimeClass": {"use": "node.k8s.io/v1", "removed": "1.25"},
	},
	"flowcontrol.apiserver.k8s.io/v1alpha1": {
		"FlowSchema": {"use": "flowcontrol.apiserver.k8s.io/v1", "removed": "1.21"},
		"PriorityLevelConfiguration": {"use": "flowcontrol.apiserver.k8s.io/v1", "removed": "1.21"},
	},
	"flowcontrol.apiserver.k8s.io/v1beta1": {
		"FlowSchema": {"use": "flowcontrol.apiserver.k8s.io/v1", "removed": "1.26"},
		"PriorityLevelConfiguration": {"use": "flowcontrol.apiserver.k8s.io/v1", "removed": "1.26"},
	},
	"flowcontrol.apiserver.k8s.io/v1beta2": {
		"FlowSchema": {"use": "flowcontrol.apiserver.k8s.io/v1", "removed": "1.29"},
		"PriorityLevelConfiguration": {"use": "flowcontrol.apiserver.k8s.io/v1", "removed": "1.29"},
	},
	"flowcontrol.apiserver.k8s.io/v1beta3": {
		"FlowSchema": {"use": "flowcontrol.apiserver.k8s.io/v1", "removed": "1.32"},
		"PriorityLevelConfiguration": {"use": "flowcontrol.apiserver.k8s.io/v1", "removed": "1.32"},
	},
	"rbac.authorization.k8s.io/v1alpha1": {
		"ClusterRole": {"use": "rbac.authorization.k8s.io/v1", "removed": "1.22"},
		"ClusterRoleBinding": {"use": "rbac.authorization.k8s.io/v1", "removed": "1.22"},
		"Role": {"use": "rbac.authorization.k8s.io/v1", "removed": "1.22"},
		"RoleBinding": {"use": "rbac.authorization.k8s.io/v1", "removed": "1.22"},
	},
	"rbac.authorization.k8s.io/v1beta1": {
		"ClusterRole": {"use": "rbac.authorization.k8s.io/v1", "removed": "1.22"},
		"ClusterRoleBinding": {"use": "rbac.authorization.k8s.io/v1", "removed": "1.22"},
		"Role": {"use": "rbac.authorization.k8s.io/v1", "removed": "1.22"},
		"RoleBinding": {"use": "rbac.authorization.k8s.io/v1", "removed": "1.22"},
	},
	"admissionregistration.k8s.io/v1beta1": {
		"MutatingWebhookConfiguration": {"use": "admissionregistration.k8s.io/v1", "removed": "1.22"},
		"ValidatingWebhookConfiguration": {"use": "admissionregistration.k8s.io/v1", "removed": "1.22"},
	},
	"apiextensions.k8s.io/v1beta1": {
		"CustomResourceDefinition": {"use": "apiextensions.k8s.io/v1", "removed": "1.22"},
	},
	"apiregistration.k8s.io/v1beta1": {
		"APIService": {"use": "apiregistration.k8s.io/v1", "removed": "1.22"},
	},
	"certificates.k8s.io/v1beta1": {
		"CertificateSigningRequest": {"use": "certificates.k8s.io/v1", "removed": "1.22"},
	},
	"coordination.k8s.io/v1beta1": {
		"Lease": {"use": "coordination.k8s.io/v1", "removed": "1.22"},
	},
	"scheduling.k8s.io/v1alpha1": {
		"PriorityClass": {"use": "scheduling.k8s.io/v1", "removed": "1.22"},
	},
	"scheduling.k8s.io/v1beta1": {
		"PriorityClass": {"use": "scheduling.k8s.io/v1", "removed": "1.22"},
	},
	"storage.k8s.io/v1beta1": {
		"CSIDriver": {"use": "storage.k8s.io/v1", "removed": "1.22"},
		"CSINode": {"use": "storage.k8s.io/v1", "removed": "1.22"},
		"StorageClass": {"use": "storage.k8s.io/v1", "removed": "1.22"},
		"VolumeAttachment": {"use": "storage.k8s.io/v1", "removed": "1.22"},
		"CSIStorageCapacity": {"use": "storage.k8s.io/v1", "removed": "1.27"},
	},
}

# removed_api_message says what became of apiVersion for kind.
removed_api_message(api_version, kind) := msg if {
	removal := removed_apis[api_version][kind]
	removal.use != ""
	msg := sprintf(
		"%s %s is no longer served (removed in Kubernetes %s); use apiVersion %s",
		[api_version, kind, removal.removed, removal.use],
	)
} else := msg if {
	removal := removed_apis[api_version][kind]
	msg := sprintf(
		"%s %s is no longer served (removed in Kubernetes %s) and has no replacement API; %s",
		[api_version, kind, removal.removed, removal.instead],
	)
} else := sprintf(
	"apiVersion %s is no longer served; use the current apiVersion of %s (see kubectl explain %s)",
	[api_version, kind, lower(kind)],
)
