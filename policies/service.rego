# service-selects-workload and service-port-matches: a Service whose selector or targetPort
# matches nothing in the environment has no endpoints, which is found only when a request
# fails. These rules read the whole environment (data.gitops.objects); outside the engine they
# stay silent. Pods created by operators from custom resources are not seen here: exempt such
# a Service with an annotation.
package main

import data.gitops.lib

warn contains result if {
	input.kind == "Service"
	input.apiVersion == "v1"
	lib.environment_known
	selector := lib.service_selector
	count(lib.selected_workloads) == 0
	result := {
		"rule": "service-selects-workload",
		"field": "spec.selector",
		"msg": sprintf(
			"selector %s matches the pod template of no workload in namespace %q of this environment, so the Service has no endpoints; fix the selector or the workload's pod labels",
			[lib.format_labels(selector), lib.namespace],
		),
	}
}

warn contains result if {
	input.kind == "Service"
	input.apiVersion == "v1"
	lib.environment_known
	count(lib.selected_workloads) > 0
	some i, port in input.spec.ports
	target := object.get(port, "targetPort", port.port)
	protocol := object.get(port, "protocol", "TCP")
	not lib.port_served(target, protocol)
	result := {
		"rule": "service-port-matches",
		"field": sprintf("spec.ports[%s].targetPort", [lib.port_key(i, port)]),
		"msg": sprintf(
			"targetPort %v (%s) matches no containerPort of the selected %s; declare it in the container's ports or fix targetPort",
			[target, protocol, lib.format_workloads(lib.selected_workloads)],
		),
	}
}
