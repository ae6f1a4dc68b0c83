# host-access: host namespaces and host paths let a pod see and change its node: other pods'
# processes and traffic, the container runtime socket, the kubelet's credentials.
package main

import data.gitops.lib

deny contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	lib.pod_spec[field] == true
	result := {
		"rule": "host-access",
		"field": concat("", [lib.pod_spec_path, ".", field]),
		"msg": sprintf("the pod shares its node's namespace through %s: true; remove it", [field]),
	}
}

deny contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	lib.pod_spec.volumes[i].hostPath
	volume := lib.pod_spec.volumes[i]
	result := {
		"rule": "host-access",
		"field": concat("", [lib.pod_spec_path, ".volumes[name=", volume.name, "].hostPath"]),
		"msg": sprintf(
			"volume %s mounts %s from the node; use a persistentVolumeClaim, configMap, secret or emptyDir volume instead",
			[volume.name, object.get(volume.hostPath, "path", "a host path")],
		),
	}
}
