package no_bare_pod_test

import data.gitops.testlib

test_no_bare_pod_denies_pods if {
	testlib.fields(testlib.deny(testlib.pod, "no-bare-pod")) == {"kind"}
}

test_no_bare_pod_allows_controllers if {
	every workload in object.remove(testlib.workloads, ["Pod"]) {
		count(testlib.deny(workload, "no-bare-pod")) == 0
	}
}

test_no_bare_pod_ignores_custom_pod_kinds if {
	count(testlib.deny(object.union(testlib.pod, {"apiVersion": "example.com/v1"}), "no-bare-pod")) == 0
}
