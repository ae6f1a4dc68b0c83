# no-secret-env: a credential written as a literal environment variable value ends up in Git,
# in `kubectl describe` output and in every log that dumps the pod spec.
package main

import data.gitops.lib

deny contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	lib.env_may_hold_secrets
	c := lib.container_lists[list][_]
	env := c.env[_]
	is_string(env.value)
	reason := lib.env_secret_reason(env)
	result := {
		"rule": "no-secret-env",
		"field": lib.container_field(list, c, concat("", [".env[name=", env.name, "]"])),
		"msg": sprintf(
			"container %s: env %s has a literal value that %s; put the value in a Secret and mount it as a file (or reference it with valueFrom.secretKeyRef)",
			[c.name, env.name, reason],
		),
	}
}
