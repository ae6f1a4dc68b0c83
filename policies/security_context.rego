# security-context: a privileged container, or one that may gain privileges, can take over
# its node; a container that may run as root turns any escape into a root escape.
package main

import data.gitops.lib

deny contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	c := lib.container_lists[list][_]
	c.securityContext.privileged == true
	result := {
		"rule": "security-context",
		"field": lib.container_field(list, c, ".securityContext.privileged"),
		"msg": sprintf(
			"container %s is privileged and has full access to its node; remove securityContext.privileged and grant only the capabilities it needs",
			[c.name],
		),
	}
}

deny contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	c := lib.container_lists[list][_]
	c.securityContext.allowPrivilegeEscalation == true
	result := {
		"rule": "security-context",
		"field": lib.container_field(list, c, ".securityContext.allowPrivilegeEscalation"),
		"msg": sprintf(
			"container %s allows privilege escalation; set securityContext.allowPrivilegeEscalation: false",
			[c.name],
		),
	}
}

warn contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	c := lib.container_lists[list][_]
	not lib.runs_as_non_root(c)
	result := {
		"rule": "security-context",
		"field": lib.container_field(list, c, ".securityContext.runAsNonRoot"),
		"msg": sprintf(
			"container %s may run as root; set securityContext.runAsNonRoot: true on the pod or the container (and a non-zero runAsUser if the image has no non-root user)",
			[c.name],
		),
	}
}
