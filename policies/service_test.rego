package service_test

import data.gitops.testlib

service_with(spec) := object.union(testlib.service, {"spec": spec})

test_service_selects_workload_warns_when_nothing_matches if {
	svc := service_with({"selector": {"app": "web"}})
	results := testlib.warn_in(svc, [svc, testlib.deployment], "service-selects-workload")
	testlib.fields(results) == {"spec.selector"}
	contains(testlib.messages(results), "app=web")
}

test_service_selects_workload_needs_every_selector_label if {
	svc := service_with({"selector": {"app": "api", "tier": "backend"}})
	count(testlib.warn_in(svc, [svc, testlib.deployment], "service-selects-workload")) == 1
}

test_service_selects_workload_only_in_the_same_namespace if {
	other := object.union(testlib.deployment, {"metadata": {"namespace": "other"}})
	count(testlib.warn_in(testlib.service, [testlib.service, other], "service-selects-workload")) == 1
}

test_service_selects_workload_matches_every_workload_kind if {
	every workload in testlib.workloads {
		count(testlib.warn_in(testlib.service, [testlib.service, workload], "service-selects-workload")) == 0
	}
}

test_service_selects_workload_ignores_services_without_selector if {
	headless := object.remove(testlib.service, ["spec"])
	external := service_with({"type": "ExternalName", "externalName": "db.example.com", "selector": {"app": "nothing"}})
	count(testlib.warn_in(headless, [headless], "service-selects-workload")) == 0
	count(testlib.warn_in(external, [external], "service-selects-workload")) == 0
}

test_service_rules_are_silent_without_an_environment if {
	svc := service_with({"selector": {"app": "web"}})
	count(testlib.warn(svc, "service-selects-workload")) == 0
	count(testlib.warn(svc, "service-port-matches")) == 0
}

test_service_port_matches_accepts_named_and_numbered_ports if {
	ports := [
		{"name": "http", "port": 80, "targetPort": "http"},
		{"name": "direct", "port": 8080, "targetPort": 8080},
		{"name": "default", "port": 8080},
	]
	svc := service_with({"ports": ports})
	count(testlib.warn_in(svc, [svc, testlib.deployment], "service-port-matches")) == 0
}

test_service_port_matches_warns_on_unknown_target_ports if {
	ports := [
		{"name": "http", "port": 80, "targetPort": "web"},
		{"port": 9090, "targetPort": 9090},
		{"name": "udp", "port": 8080, "protocol": "UDP"},
	]
	svc := service_with({"ports": ports})
	results := testlib.warn_in(svc, [svc, testlib.deployment], "service-port-matches")
	testlib.fields(results) == {
		"spec.ports[name=http].targetPort",
		"spec.ports[1].targetPort",
		"spec.ports[name=udp].targetPort",
	}
	contains(testlib.messages(results), "Deployment/api")
}

test_service_port_matches_looks_at_every_selected_workload if {
	other := object.union(testlib.statefulset, {"metadata": {"name": "api-cache"}})
	other_container := object.union(testlib.container, {"ports": [{"name": "cache", "containerPort": 6379}]})
	cache := testlib.with_container(other, other_container)
	svc := service_with({"ports": [{"name": "cache", "port": 6379, "targetPort": "cache"}]})
	count(testlib.warn_in(svc, [svc, testlib.deployment, cache], "service-port-matches")) == 0
}
