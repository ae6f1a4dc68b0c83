package security_context_test

import data.gitops.testlib

deployment_with_security(sc) := testlib.with_container(
	testlib.deployment,
	testlib.patched_container({"securityContext": sc}, ["securityContext"]),
)

test_security_context_denies_privileged if {
	d := deployment_with_security({"runAsNonRoot": true, "privileged": true})
	testlib.fields(testlib.deny(d, "security-context")) == {"spec.template.spec.containers[name=api].securityContext.privileged"}
}

test_security_context_denies_privilege_escalation if {
	d := deployment_with_security({"runAsNonRoot": true, "allowPrivilegeEscalation": true})
	testlib.fields(testlib.deny(d, "security-context")) == {"spec.template.spec.containers[name=api].securityContext.allowPrivilegeEscalation"}
}

test_security_context_allows_explicit_false if {
	d := deployment_with_security({"runAsNonRoot": true, "privileged": false, "allowPrivilegeEscalation": false})
	count(testlib.deny(d, "security-context")) == 0
}

test_security_context_warns_when_root_is_possible if {
	cases := [
		{},
		{"runAsNonRoot": false},
		{"runAsUser": 0},
	]
	every sc in cases {
		testlib.fields(testlib.warn(deployment_with_security(sc), "security-context")) == {"spec.template.spec.containers[name=api].securityContext.runAsNonRoot"}
	}
}

test_security_context_accepts_pod_level_run_as_non_root if {
	d := testlib.with_pod_spec(deployment_with_security({}), {"securityContext": {"runAsNonRoot": true}})
	count(testlib.warn(d, "security-context")) == 0
}

test_security_context_container_overrides_pod_level if {
	d := testlib.with_pod_spec(deployment_with_security({"runAsNonRoot": false}), {"securityContext": {"runAsNonRoot": true}})
	count(testlib.warn(d, "security-context")) == 1
}

test_security_context_checks_init_containers if {
	init := {"name": "setup", "image": "setup:1.0", "securityContext": {"privileged": true}}
	d := testlib.with_pod_spec(testlib.deployment, {"initContainers": [init]})
	testlib.fields(testlib.deny(d, "security-context")) == {"spec.template.spec.initContainers[name=setup].securityContext.privileged"}
}
