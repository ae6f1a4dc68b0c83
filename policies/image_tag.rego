# image-tag: an image without a tag, or with :latest, changes under the same manifest, so what
# runs is not what was reviewed and a rollback does not roll back.
package main

import data.gitops.lib

deny contains result if {
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
	c := lib.container_lists[list][_]
	# Cheap gate: a last path segment without tag or with :latest, and no digest.
	regex.match(`^(?:[^@]*/)?[^/@:]+(?::latest)?$`, c.image)
	problem := lib.image_problem(c.image)
	result := {
		"rule": "image-tag",
		"field": lib.container_field(list, c, ".image"),
		"msg": sprintf(
			"container %s: image %s %s; pin a version tag or a digest (image:1.2.3 or image@sha256:...)",
			[c.name, c.image, problem],
		),
	}
}
