package probes_test

import data.gitops.testlib

test_probes_warns_on_missing_probes_of_long_running_workloads if {
	every kind in ["Deployment", "StatefulSet", "DaemonSet"] {
		obj := testlib.with_container(testlib.workloads[kind], testlib.patched_container({}, ["readinessProbe", "livenessProbe"]))
		testlib.fields(testlib.warn(obj, "probes")) == {
			"spec.template.spec.containers[name=api].readinessProbe",
			"spec.template.spec.containers[name=api].livenessProbe",
		}
	}
}

test_probes_warns_on_each_missing_probe if {
	d := testlib.with_container(testlib.deployment, testlib.patched_container({}, ["livenessProbe"]))
	testlib.fields(testlib.warn(d, "probes")) == {"spec.template.spec.containers[name=api].livenessProbe"}
}

test_probes_ignores_jobs_and_cronjobs if {
	every kind in ["Job", "CronJob"] {
		obj := testlib.with_container(testlib.workloads[kind], testlib.patched_container({}, ["readinessProbe", "livenessProbe"]))
		count(testlib.warn(obj, "probes")) == 0
	}
}

test_probes_ignores_init_containers if {
	d := testlib.with_pod_spec(testlib.deployment, {"initContainers": [{"name": "migrate", "image": "migrate:1.0"}]})
	count(testlib.warn(d, "probes")) == 0
}
