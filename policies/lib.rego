# Helpers shared by the gitops-agent best-practice rules (package main). They live in their
# own package so that third-party conftest policies dropped into the same folder cannot
# collide with them.
package gitops.lib

# Every rule about workloads starts with the literal condition
#   input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
# rather than a helper, because OPA's rule index can only use literal conditions on the input
# to skip a rule; with it, a ConfigMap or a Service costs nothing for the workload rules.

# Pod specs: the path of the pod spec inside the input, per workload kind. Each definition
# starts with `input.kind == ...` so OPA's rule index picks the one definition that applies
# and skips the rest for Services, ConfigMaps and the like.

pod_spec_path := "spec" if {
	input.kind == "Pod"
	builtin_workload_api
}

pod_spec_path := "spec.template.spec" if {
	input.kind == "Deployment"
	builtin_workload_api
}

pod_spec_path := "spec.template.spec" if {
	input.kind == "StatefulSet"
	builtin_workload_api
}

pod_spec_path := "spec.template.spec" if {
	input.kind == "DaemonSet"
	builtin_workload_api
}

pod_spec_path := "spec.template.spec" if {
	input.kind == "ReplicaSet"
	builtin_workload_api
}

pod_spec_path := "spec.template.spec" if {
	input.kind == "Job"
	builtin_workload_api
}

pod_spec_path := "spec.jobTemplate.spec.template.spec" if {
	input.kind == "CronJob"
	builtin_workload_api
}

# pod_spec is the input's pod spec, at pod_spec_path; undefined for objects that are not
# workloads.
pod_spec := input.spec if {
	input.kind == "Pod"
	builtin_workload_api
}

pod_spec := input.spec.template.spec if {
	input.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
	builtin_workload_api
}

pod_spec := input.spec.jobTemplate.spec.template.spec if {
	input.kind == "CronJob"
	builtin_workload_api
}

# Custom resources may reuse a kind name (Volcano's batch.volcano.sh Job, say); only the
# Kubernetes API groups that define the workload kinds have a pod spec where we look: the core
# group (apiVersion v1), apps, batch and extensions. An apiVersion that is not group/version
# (absent, or with more than one slash) counts as the core group.
builtin_workload_api if regex.match(`^(?:(?:apps|batch|extensions)?/[^/]*$|[^/]*$|[^/]*/[^/]*/)`, input.apiVersion)

builtin_workload_api if not is_string(input.apiVersion)

# container_lists are the input's containers and init containers, by list: {"containers": [...],
# "initContainers": [...]}. The rules take each container with one reference,
# c := lib.container_lists[list][_], which binds list to the container's list.
container_lists := object.filter(pod_spec, ["containers", "initContainers"])

# container_field is the path of a field of a container in findings, built only for findings:
# container_field("containers", c, ".image") is "spec.template.spec.containers[name=api].image".
container_field(list, c, suffix) := concat("", [pod_spec_path, ".", list, "[name=", c.name, "]", suffix])

# namespace of the input; "" for cluster-scoped objects and objects that leave it to the
# environment's default.
namespace := object.get(input, ["metadata", "namespace"], "")

# resources_complete is the common case, checked first and cheaply: everything set explicitly.
resources_complete(c) if {
	c.resources.requests.cpu
	c.resources.requests.memory
	c.resources.limits.memory
}

# has_resource says whether a container (or a pod spec, for pod-level resources) sets what.
has_resource(c, "cpu request") if c.resources.requests.cpu

has_resource(c, "cpu request") if c.resources.limits.cpu

has_resource(c, "memory request") if c.resources.requests.memory

has_resource(c, "memory request") if c.resources.limits.memory

has_resource(c, "memory limit") if c.resources.limits.memory

pod_level_resources if {
	has_resource(pod_spec, "cpu request")
	has_resource(pod_spec, "memory request")
	has_resource(pod_spec, "memory limit")
}

# image_problem says what is wrong with an image reference's version pinning; undefined when
# it is pinned by tag or digest. A digest pins whatever tag stands beside it.
image_problem(image) := "has no tag, so each pull may fetch a different image" if {
	not contains(image, "@")
	not image_tag(image)
}

image_problem(image) := "uses the moving tag latest" if {
	not contains(image, "@")
	image_tag(image) == "latest"
}

# image_tag is the tag of an image reference. Only the last path segment can carry one: in
# registry:5000/team/app the colon belongs to the registry's port.
image_tag(image) := tag if {
	segments := split(image, "/")
	last := segments[count(segments) - 1]
	i := indexof(last, ":")
	i >= 0
	tag := substring(last, i + 1, -1)
}

# runs_as_non_root says whether a container must run as a non-root user: its own
# securityContext decides, or the pod's when the container leaves runAsNonRoot unset.
runs_as_non_root(c) if c.securityContext.runAsNonRoot == true

runs_as_non_root(c) if {
	object.get(c, ["securityContext", "runAsNonRoot"], null) == null
	pod_spec.securityContext.runAsNonRoot == true
}
