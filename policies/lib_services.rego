# Helpers for the cross-object Service rules.
package gitops.lib

# Cross-object data. The engine puts the environment being checked under data.gitops (see
# README.md): its objects by namespace, kind and name, and the pod templates of its workloads by
# namespace and label. Outside the engine (conftest, a plain `opa eval`) it is absent, and the
# cross-object rules stay silent rather than guess.
environment_known if namespace_templates

# namespace_templates is data.gitops.pod_templates of the input's namespace, {} when no workload
# of the environment is in it. It is read once, and the Service rules look up labels in it.
namespace_templates := object.get(data.gitops.pod_templates, namespace, {})

# service_selector is the input Service's non-empty selector. ExternalName Services and
# Services without a selector (their Endpoints are managed by hand) select no pods.
service_selector := s if {
	object.get(input, ["spec", "type"], "ClusterIP") != "ExternalName"
	s := input.spec.selector
	count(s) > 0
}

# selected_workloads are the workloads of the input Service's namespace whose pod template
# labels carry every key and value of its selector, each as {kind, name, labels, ports}.
selected_workloads := {w |
	# Start from the selector label that the fewest pod templates carry (app.kubernetes.io/name
	# rather than app.kubernetes.io/part-of), then check the others.
	templates := namespace_templates
	candidates := [[count(templates[k][v]), k, v] | some k, v in service_selector]
	count(candidates) == count(service_selector) # else some label is on no pod template
	[_, k, v] := min(candidates)
	some w in templates[k][v]
	every k2, v2 in service_selector {
		w.labels[k2] == v2
	}
}

# selected_container_ports are the ports declared by the containers of the selected workloads.
selected_container_ports contains p if {
	some w in selected_workloads
	some p in w.ports
}

# port_served says whether a selected container declares the target port: by number, or by
# name for a named targetPort.
port_served(target, protocol) if {
	is_number(target)
	some p in selected_container_ports
	p.containerPort == target
	object.get(p, "protocol", "TCP") == protocol
}

port_served(target, protocol) if {
	is_string(target)
	some p in selected_container_ports
	p.name == target
	object.get(p, "protocol", "TCP") == protocol
}

# port_key names a Service port in a field path: by name when it has one, else by index.
port_key(_, port) := concat("", ["name=", port.name]) if port.name

port_key(i, port) := sprintf("%d", [i]) if not port.name

format_labels(labels) := concat(",", sort([concat("=", [k, v]) | some k, v in labels]))

format_workloads(workloads) := concat(", ", sort([concat("/", [w.kind, w.name]) | some w in workloads]))
