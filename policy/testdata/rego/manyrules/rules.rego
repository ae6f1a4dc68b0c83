# More queried rules than the engine splits its queries by: each object must still get the
# results of every rule that applies to it, and of no other.
package main

deny_configmap contains "a ConfigMap" if input.kind == "ConfigMap"

deny_pod contains "a Pod" if input.kind == "Pod"

deny_service contains "a Service" if input.kind == "Service"

deny_always contains "any object"

deny_never contains "no object" if input.kind == "Nothing"

warn_deployment contains "a Deployment" if input.kind == "Deployment"

warn_configmap := "a ConfigMap, warned by a complete rule" if input.kind == "ConfigMap"

violation_named contains sprintf("named %s", [input.metadata.name]) if input.metadata.name == "plain"
