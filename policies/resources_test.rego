package resources_test

import data.gitops.testlib

test_resources_denies_missing_requests_and_limit if {
	cases := {
		"no cpu request": {"requests": {"memory": "128Mi"}, "limits": {"memory": "256Mi"}},
		"no memory request, no memory limit": {"requests": {"cpu": "100m"}},
		"no memory limit": {"requests": {"cpu": "100m", "memory": "128Mi"}},
		"no cpu request, no memory request, no memory limit": {},
	}
	wrong := {missing |
		some missing, resources in cases
		c := object.union(object.remove(testlib.container, ["resources"]), {"resources": resources})
		results := testlib.deny(testlib.with_container(testlib.deployment, c), "resources")
		not denied_for(results, missing)
	}
	print("not denied as expected:", wrong)
	wrong == set()
}

denied_for(results, missing) if {
	testlib.fields(results) == {"spec.template.spec.containers[name=api].resources"}
	contains(testlib.messages(results), missing)
}

test_resources_limits_count_as_requests if {
	c := object.union(object.remove(testlib.container, ["resources"]), {"resources": {"limits": {"cpu": "1", "memory": "256Mi"}}})
	count(testlib.deny(testlib.with_container(testlib.deployment, c), "resources")) == 0
}

test_resources_checks_init_containers if {
	init := {"name": "migrate", "image": "migrate:1.0"}
	d := testlib.with_pod_spec(testlib.deployment, {"initContainers": [init]})
	testlib.fields(testlib.deny(d, "resources")) == {"spec.template.spec.initContainers[name=migrate].resources"}
}

test_resources_checks_every_workload_kind if {
	every kind, workload in testlib.workloads {
		obj := testlib.with_container(workload, testlib.patched_container({}, ["resources"]))
		testlib.fields(testlib.deny(obj, "resources")) == {sprintf("%s[name=api].resources", [testlib.containers_path[kind]])}
	}
}

test_resources_accepts_pod_level_resources if {
	pod_resources := {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}}
	c := testlib.patched_container({}, ["resources"])
	d := testlib.with_pod_spec(testlib.deployment, object.union({"containers": [c]}, pod_resources))
	count(testlib.deny(d, "resources")) == 0
}
