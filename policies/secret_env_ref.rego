# secret-env-ref: a Secret read into an environment variable is visible to every process in
# the container, to child processes, and to crash dumps and debug endpoints that print the
# environment; a Secret mounted as a file is not, and it is updated in place when it rotates.
package main

import data.gitops.lib

warn contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	c := lib.container_lists[list][_]
	ref := c.env[i].valueFrom.secretKeyRef
	env := c.env[i]
	result := {
		"rule": "secret-env-ref",
		"field": lib.container_field(list, c, concat("", [".env[name=", env.name, "]"])),
		"msg": sprintf(
			"container %s: env %s reads key %s of Secret %s; mount the Secret as a volume and read the file instead",
			[c.name, env.name, object.get(ref, "key", "?"), object.get(ref, "name", "?")],
		),
	}
}

warn contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	c := lib.container_lists[list][_]
	ref := c.envFrom[i].secretRef
	result := {
		"rule": "secret-env-ref",
		"field": lib.container_field(list, c, sprintf(".envFrom[%d]", [i])),
		"msg": sprintf(
			"container %s: envFrom loads every key of Secret %s into the environment; mount the Secret as a volume and read the files instead",
			[c.name, object.get(ref, "name", "?")],
		),
	}
}
