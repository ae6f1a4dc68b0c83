package main_test

import data.main

test_configmap_denied if {
	count(main.deny) == 1 with input as {"kind": "ConfigMap"}
}

test_deployment_denied if {
	print("checking a Deployment")
	count(main.deny) == 1 with input as {"kind": "Deployment"}
}

todo_test_service if {
	count(main.deny) == 0 with input as {"kind": "Service"}
}
