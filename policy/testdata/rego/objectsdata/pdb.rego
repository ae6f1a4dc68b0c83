# A cross-object rule that reads data.gitops.objects, which the engine then builds.
package main

deny contains msg if {
	input.kind == "Deployment"
	not pdb_in_namespace
	msg := sprintf("Deployment %s has no PodDisruptionBudget in its namespace", [input.metadata.name])
}

pdb_in_namespace if data.gitops.objects[input.metadata.namespace].PodDisruptionBudget
