package deprecated_api_test

import data.gitops.lib
import data.gitops.testlib

test_deprecated_api_denies_removed_versions_with_their_replacement if {
	cases := {
		["extensions/v1beta1", "Deployment"]: "apps/v1",
		["extensions/v1beta1", "Ingress"]: "networking.k8s.io/v1",
		["apps/v1beta1", "StatefulSet"]: "apps/v1",
		["apps/v1beta2", "DaemonSet"]: "apps/v1",
		["batch/v1beta1", "CronJob"]: "batch/v1",
		["policy/v1beta1", "PodDisruptionBudget"]: "policy/v1",
		["autoscaling/v2beta1", "HorizontalPodAutoscaler"]: "autoscaling/v2",
		["autoscaling/v2beta2", "HorizontalPodAutoscaler"]: "autoscaling/v2",
		["networking.k8s.io/v1beta1", "Ingress"]: "networking.k8s.io/v1",
		["flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"]: "flowcontrol.apiserver.k8s.io/v1",
		["rbac.authorization.k8s.io/v1beta1", "ClusterRole"]: "rbac.authorization.k8s.io/v1",
		["apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"]: "apiextensions.k8s.io/v1",
	}
	wrong := {gvk |
		some gvk, use in cases
		obj := {"apiVersion": gvk[0], "kind": gvk[1], "metadata": {"name": "x"}}
		results := testlib.deny(obj, "deprecated-api")
		not denied_with(results, use)
	}
	print("not denied as expected:", wrong)
	wrong == set()
}

denied_with(results, use) if {
	testlib.fields(results) == {"apiVersion"}
	contains(testlib.messages(results), sprintf("use apiVersion %s", [use]))
}

test_deprecated_api_explains_pod_security_policy_removal if {
	psp := {"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "restricted"}}
	contains(testlib.messages(testlib.deny(psp, "deprecated-api")), "pod-security.kubernetes.io/enforce")
}

test_deprecated_api_denies_unlisted_kinds_of_removed_versions if {
	obj := {"apiVersion": "extensions/v1beta1", "kind": "ReplicationControllerDummy", "metadata": {"name": "x"}}
	count(testlib.deny(obj, "deprecated-api")) == 1
}

test_deprecated_api_allows_current_versions if {
	objs := [
		testlib.deployment,
		testlib.cronjob,
		{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "x"}},
		{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"}},
		{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "x"}},
		{"apiVersion": "example.com/v1beta1", "kind": "Widget", "metadata": {"name": "x"}},
	]
	every obj in objs {
		count(testlib.deny(obj, "deprecated-api")) == 0
	}
}

# The rule lists the removed API versions literally (for OPA's rule index); every entry of the
# table must be among them.
test_deprecated_api_covers_the_whole_table if {
	missed := {[api_version, kind] |
		some api_version, kinds in lib.removed_apis
		some kind, _ in kinds
		obj := {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
		count(testlib.deny(obj, "deprecated-api")) != 1
	}
	print("not denied:", missed)
	missed == set()
}
