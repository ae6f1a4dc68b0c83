# A conftest policy in the Rego v0 syntax, as found in existing repositories.
package main

deny[msg] {
	input.kind == "Deployment"
	not input.spec.template.spec.securityContext.runAsNonRoot
	msg := sprintf("%s must not run as root", [input.metadata.name])
}

warn_replicas[msg] {
	input.kind == "Deployment"
	input.spec.replicas < 2
	msg := "fewer than 2 replicas"
}

violation[{"msg": msg, "details": {"kind": input.kind}}] {
	input.kind == "Service"
	msg := "services are reviewed by hand"
}

exception[rules] {
	input.metadata.name == "legacy"
	rules := ["replicas"]
}
