package host_access_test

import data.gitops.testlib

test_host_access_denies_host_namespaces if {
	every field in ["hostNetwork", "hostPID", "hostIPC"] {
		d := testlib.with_pod_spec(testlib.deployment, {field: true})
		testlib.fields(testlib.deny(d, "host-access")) == {sprintf("spec.template.spec.%s", [field])}
	}
}

test_host_access_allows_explicit_false if {
	d := testlib.with_pod_spec(testlib.deployment, {"hostNetwork": false, "hostPID": false, "hostIPC": false})
	count(testlib.deny(d, "host-access")) == 0
}

test_host_access_denies_host_path_volumes if {
	volumes := [
		{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}},
		{"name": "cache", "emptyDir": {}},
	]
	d := testlib.with_pod_spec(testlib.deployment, {"volumes": volumes})
	results := testlib.deny(d, "host-access")
	testlib.fields(results) == {"spec.template.spec.volumes[name=docker].hostPath"}
	contains(testlib.messages(results), "/var/run/docker.sock")
}

test_host_access_checks_cronjob_pod_spec if {
	c := testlib.with_pod_spec(testlib.cronjob, {"hostNetwork": true})
	testlib.fields(testlib.deny(c, "host-access")) == {"spec.jobTemplate.spec.template.spec.hostNetwork"}
}
