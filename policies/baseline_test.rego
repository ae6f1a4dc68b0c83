# The fixtures pass every rule, so that each rule test shows the one change that trips it.
package baseline_test

import data.gitops.testlib
import data.main

test_baseline_workloads_pass_every_rule if {
	# A Pod is a workload too, but no-bare-pod denies it whatever it contains.
	every workload in object.remove(testlib.workloads, ["Pod"]) {
		count(main.deny) == 0 with input as workload
		count(main.warn) == 0 with input as workload
	}
}

test_baseline_objects_pass_every_rule_in_an_environment if {
	objs := [testlib.deployment, testlib.service, testlib.configmap, testlib.job]
	every obj in objs {
		count(main.deny) == 0 with input as obj
			with data.gitops.objects as testlib.index(objs)
			with data.gitops.pod_templates as testlib.pod_template_index(objs)
		count(main.warn) == 0 with input as obj
			with data.gitops.objects as testlib.index(objs)
			with data.gitops.pod_templates as testlib.pod_template_index(objs)
	}
}
