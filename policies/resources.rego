# resources: without requests the scheduler packs pods blindly and they are the first to be
# evicted; without a memory limit one leaking container can take the whole node down.
# A limit also counts as the request when the request is not set, as Kubernetes defaults it,
# and pod-level resources (spec.resources) cover every container of the pod.
package main

import data.gitops.lib

deny contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	c := lib.container_lists[list][_]
	not lib.resources_complete(c)
	not lib.pod_level_resources
	missing := [what |
		some what in ["cpu request", "memory request", "memory limit"]
		not lib.has_resource(c, what)
	]
	count(missing) > 0
	result := {
		"rule": "resources",
		"field": lib.container_field(list, c, ".resources"),
		"msg": sprintf(
			"container %s has no %s; set resources.requests.cpu, resources.requests.memory and resources.limits.memory",
			[c.name, concat(", no ", missing)],
		),
	}
}
