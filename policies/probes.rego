# probes: without a readiness probe a rollout sends traffic to pods that cannot serve it yet;
# without a liveness probe a hung process is never restarted. Only long-running workloads:
# Jobs and CronJobs run to completion.
package main

import data.gitops.lib

warn contains result if {
	input.kind in {"Deployment", "StatefulSet", "DaemonSet"}
	some ct in lib.containers
	ct.list == "containers"
	some probe in ["readinessProbe", "livenessProbe"]
	not ct.container[probe]
	result := {
		"rule": "probes",
		"field": lib.container_field(ct, concat("", [".", probe])),
		"msg": sprintf(
			"container %s has no %s; add one so that Kubernetes knows when the container can take traffic and when it must be restarted",
			[ct.container.name, probe],
		),
	}
}
