# deprecated-api: an apiVersion that Kubernetes no longer serves makes the apply fail on every
# current cluster. The message names the replacement; some fields changed on the way from beta
# to GA (Ingress backends, HPA metrics), so read the Kubernetes deprecated API migration guide.
package main

import data.gitops.lib

deny contains result if {
	# The removed API versions, written out so that OPA's rule index skips this rule for every
	# object in a current version; lib.removed_apis has the details (a test keeps both in step).
	input.apiVersion in {
		"extensions/v1beta1",
		"apps/v1beta1",
		"apps/v1beta2",
		"networking.k8s.io/v1beta1",
		"batch/v1beta1",
		"batch/v2alpha1",
		"policy/v1beta1",
		"autoscaling/v2beta1",
		"autoscaling/v2beta2",
		"discovery.k8s.io/v1beta1",
		"events.k8s.io/v1beta1",
		"node.k8s.io/v1beta1",
		"flowcontrol.apiserver.k8s.io/v1alpha1",
		"flowcontrol.apiserver.k8s.io/v1beta1",
		"flowcontrol.apiserver.k8s.io/v1beta2",
		"flowcontrol.apiserver.k8s.io/v1beta3",
		"rbac.authorization.k8s.io/v1alpha1",
		"rbac.authorization.k8s.io/v1beta1",
		"admissionregistration.k8s.io/v1beta1",
		"apiextensions.k8s.io/v1beta1",
		"apiregistration.k8s.io/v1beta1",
		"certificates.k8s.io/v1beta1",
		"coordination.k8s.io/v1beta1",
		"scheduling.k8s.io/v1alpha1",
		"scheduling.k8s.io/v1beta1",
		"storage.k8s.io/v1beta1",
	}
	result := {
		"rule": "deprecated-api",
		"field": "apiVersion",
		"msg": lib.removed_api_message(input.apiVersion, input.kind),
	}
}
