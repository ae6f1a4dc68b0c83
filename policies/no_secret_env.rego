# no-secret-env: a credential written as a literal environment variable value ends up in Git,
# in `kubectl describe` output and in every log that dumps the pod spec.
package main

import data.gitops.lib

deny contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	lib.env_may_hold_secrets
	some ct in lib.containers
	some env in ct.container.env
	is_string(env.value)
	reason := lib.env_secret_reason(env)
	result := {
		"rule": "no-secret-env",
		"field": lib.container_field(ct, concat("", [".env[name=", env.name, "]"])),
		"msg": sprintf(
			"container %s: env %s has a literal value that %s; put the value in a Secret and mount it as a file (or reference it with valueFrom.secretKeyRef)",
			[ct.container.name, env.name, reason],
		),
	}
}
