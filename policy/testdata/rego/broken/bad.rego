package main

deny contains msg if {
	input.kind == "ConfigMap"
	msg := sprintf("%s", [input.metadata.name]
}
