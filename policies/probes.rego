# probes: without a readiness probe a rollout sends traffic to pods that cannot serve it yet;
# without a liveness probe a hung process is never restarted. Only long-running workloads:
# Jobs and CronJobs run to completion.
package main

import data.gitops.lib

warn contains result if {
	input.kind in {"Deployment", "StatefulSet", "DaemonSet"}
	c := lib.pod_spec.containers[_]
	some probe in ["readinessProbe", "livenessProbe"]
	not c[probe]
	result := {
		"rule": "probes",
		"field": lib.container_field("containers", c, concat("", [".", probe])),
		"msg": sprintf(
			"container %s has no %s; add one so that Kubernetes knows when the container can take traffic and when it must be restarted",
			[c.name, probe],
		),
	}
}
