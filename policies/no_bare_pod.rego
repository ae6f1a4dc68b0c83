# no-bare-pod: nothing recreates a bare Pod when its node fails, it is evicted or the cluster
# is upgraded.
package main

deny contains result if {
	input.kind == "Pod"
	input.apiVersion == "v1"
	result := {
		"rule": "no-bare-pod",
		"field": "kind",
		"msg": "a bare Pod is not recreated when its node fails or it is evicted; run it from a Deployment, StatefulSet, DaemonSet or Job",
	}
}
