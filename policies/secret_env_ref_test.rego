package secret_env_ref_test

import data.gitops.testlib

test_secret_env_ref_warns_on_secret_key_ref if {
	env := [
		{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
		{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
	]
	d := testlib.with_container(testlib.deployment, testlib.patched_container({"env": env}, []))
	results := testlib.warn(d, "secret-env-ref")
	testlib.fields(results) == {"spec.template.spec.containers[name=api].env[name=DB_PASSWORD]"}
	contains(testlib.messages(results), "Secret db")
}

test_secret_env_ref_warns_on_env_from_secret if {
	env_from := [{"configMapRef": {"name": "settings"}}, {"secretRef": {"name": "db"}}]
	d := testlib.with_container(testlib.deployment, testlib.patched_container({"envFrom": env_from}, []))
	testlib.fields(testlib.warn(d, "secret-env-ref")) == {"spec.template.spec.containers[name=api].envFrom[1]"}
}

test_secret_env_ref_ignores_config_map_refs if {
	env := [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}}]
	env_from := [{"configMapRef": {"name": "settings"}}]
	d := testlib.with_container(testlib.deployment, testlib.patched_container({"env": env, "envFrom": env_from}, []))
	count(testlib.warn(d, "secret-env-ref")) == 0
}

test_secret_env_ref_is_a_warning_only if {
	env := [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
	d := testlib.with_container(testlib.deployment, testlib.patched_container({"env": env}, []))
	count(testlib.deny(d, "secret-env-ref")) == 0
}
