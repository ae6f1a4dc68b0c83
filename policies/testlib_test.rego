# Fixtures and helpers for the rule tests: objects that pass every rule, which each test
# breaks in exactly one way.
package gitops.testlib

import data.main

# container passes every rule.
container := {
	"name": "api",
	"image": "registry.example.com/shop/api:1.4.2",
	"ports": [{"name": "http", "containerPort": 8080}],
	"env": [{"name": "LOG_LEVEL", "value": "info"}],
	"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
	"readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
	"livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
	"securityContext": {"runAsNonRoot": true, "allowPrivilegeEscalation": false},
}

pod_spec := {"containers": [container]}

labels := {"app": "api"}

pod_template := {"metadata": {"labels": labels}, "spec": pod_spec}

deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"selector": {"matchLabels": labels}, "template": pod_template},
}

statefulset := object.union(deployment, {"kind": "StatefulSet", "spec": {"serviceName": "api"}})

daemonset := object.union(deployment, {"kind": "DaemonSet"})

replicaset := object.union(deployment, {"kind": "ReplicaSet"})

job := {
	"apiVersion": "batch/v1",
	"kind": "Job",
	"metadata": {"name": "migrate", "namespace": "shop"},
	"spec": {"template": object.union(pod_template, {"spec": {"restartPolicy": "Never"}})},
}

cronjob := {
	"apiVersion": "batch/v1",
	"kind": "CronJob",
	"metadata": {"name": "report", "namespace": "shop"},
	"spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": job.spec}},
}

pod := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "debug", "namespace": "shop", "labels": labels},
	"spec": pod_spec,
}

service := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
}

configmap := {
	"apiVersion": "v1",
	"kind": "ConfigMap",
	"metadata": {"name": "api", "namespace": "shop"},
	"data": {"LOG_LEVEL": "info", "application.properties": "server.port=8080\nspring.datasource.password=${DB_PASSWORD}\n"},
}

# Every workload kind, for tests that must hold for each of them.
workloads := {
	"Deployment": deployment,
	"StatefulSet": statefulset,
	"DaemonSet": daemonset,
	"ReplicaSet": replicaset,
	"Job": job,
	"CronJob": cronjob,
	"Pod": pod,
}

# Where each workload kind keeps its containers.
containers_path := {
	"Deployment": "spec.template.spec.containers",
	"StatefulSet": "spec.template.spec.containers",
	"DaemonSet": "spec.template.spec.containers",
	"ReplicaSet": "spec.template.spec.containers",
	"Job": "spec.template.spec.containers",
	"CronJob": "spec.jobTemplate.spec.template.spec.containers",
	"Pod": "spec.containers",
}

# with_container replaces the only container of a workload.
with_container(workload, c) := with_pod_spec(workload, {"containers": [c]})

# with_pod_spec merges patch into the pod spec of a workload.
with_pod_spec(workload, patch) := object.union(workload, {"spec": patch}) if workload.kind == "Pod"

with_pod_spec(workload, patch) := object.union(workload, {"spec": {"jobTemplate": {"spec": {"template": {"spec": patch}}}}}) if workload.kind == "CronJob"

with_pod_spec(workload, patch) := object.union(workload, {"spec": {"template": {"spec": patch}}}) if not workload.kind in {"Pod", "CronJob"}

# patched_container merges patch into the baseline container and drops the keys in remove.
patched_container(patch, remove) := object.union(object.remove(container, remove), patch)

# The results of one rule for one input, without and with an environment (data.gitops.objects
# and data.gitops.pod_templates as the engine builds them from a list of objects).

deny(obj, rule) := {r | some r in results; r.rule == rule} if {
	results := main.deny with input as obj
}

warn(obj, rule) := {r | some r in results; r.rule == rule} if {
	results := main.warn with input as obj
}

deny_in(obj, objs, rule) := {r | some r in results; r.rule == rule} if {
	results := main.deny with input as obj
		with data.gitops.objects as index(objs)
		with data.gitops.pod_templates as pod_template_index(objs)
}

warn_in(obj, objs, rule) := {r | some r in results; r.rule == rule} if {
	results := main.warn with input as obj
		with data.gitops.objects as index(objs)
		with data.gitops.pod_templates as pod_template_index(objs)
}

index(objs) := {ns: kinds_in(objs, ns) | some o in objs; ns := namespace_of(o)}

kinds_in(objs, ns) := {kind: names_in(objs, ns, kind) |
	some o in objs
	namespace_of(o) == ns
	kind := o.kind
}

names_in(objs, ns, kind) := {o.metadata.name: o |
	some o in objs
	namespace_of(o) == ns
	o.kind == kind
}

namespace_of(o) := object.get(o, ["metadata", "namespace"], "")

# pod_template_index is data.gitops.pod_templates[namespace][label][value]["Kind/name"].
pod_template_index(objs) := {ns: template_labels_in(objs, ns) | some o in objs; ns := namespace_of(o)}

template_labels_in(objs, ns) := {k: template_values_in(objs, ns, k) |
	some t in templates(objs)
	t.ns == ns
	some k, _ in t.entry.labels
}

template_values_in(objs, ns, k) := {v: template_ids_in(objs, ns, k, v) |
	some t in templates(objs)
	t.ns == ns
	v := t.entry.labels[k]
}

template_ids_in(objs, ns, k, v) := {concat("/", [t.entry.kind, t.entry.name]): t.entry |
	some t in templates(objs)
	t.ns == ns
	t.entry.labels[k] == v
}

templates(objs) := [{"ns": namespace_of(o), "entry": entry} |
	some o in objs
	t := template_of(o)
	entry := {
		"kind": o.kind,
		"name": o.metadata.name,
		"labels": object.get(t, ["metadata", "labels"], {}),
		"ports": [p | some field in ["containers", "initContainers"]; some c in object.get(t.spec, field, []); some p in object.get(c, "ports", [])],
	}
]

template_of(o) := o if o.kind == "Pod"

template_of(o) := o.spec.template if o.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

template_of(o) := o.spec.jobTemplate.spec.template if o.kind == "CronJob"

fields(results) := {r.field | some r in results}

messages(results) := concat("\n", sort([r.msg | some r in results]))
