# secret-env-ref: a Secret read into an environment variable is visible to every process in
# the container, to child processes, and to crash dumps and debug endpoints that print the
# environment; a Secret mounted as a file is not, and it is updated in place when it rotates.
package main

import data.gitops.lib

warn contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	some ct in lib.containers
	some env in ct.container.env
	ref := env.valueFrom.secretKeyRef
	result := {
		"rule": "secret-env-ref",
		"field": lib.container_field(ct, concat("", [".env[name=", env.name, "]"])),
		"msg": sprintf(
			"container %s: env %s reads key %s of Secret %s; mount the Secret as a volume and read the file instead",
			[ct.container.name, env.name, object.get(ref, "key", "?"), object.get(ref, "name", "?")],
		),
	}
}

warn contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	some ct in lib.containers
	some i, from in ct.container.envFrom
	ref := from.secretRef
	result := {
		"rule": "secret-env-ref",
		"field": lib.container_field(ct, sprintf(".envFrom[%d]", [i])),
		"msg": sprintf(
			"container %s: envFrom loads every key of Secret %s into the environment; mount the Secret as a volume and read the files instead",
			[ct.container.name, object.get(ref, "name", "?")],
		),
	}
}
