# secret-in-configmap: ConfigMaps are not encrypted at rest, are readable by far more roles
# than Secrets, and are printed by every `kubectl describe`; credentials belong in Secrets.
package main

import data.gitops.lib

# A key named like a credential, with a value that is not a reference or a placeholder.
deny contains result if {
	input.kind == "ConfigMap"
	lib.configmap_may_name_secrets
	some key, value in input.data
	lib.secret_like_key(key)
	not lib.credential_in_value(value)
	not lib.non_secret_value(value)
	result := {
		"rule": "secret-in-configmap",
		"field": concat("", ["data[", key, "]"]),
		"msg": sprintf("key %s looks like a credential; move it to a Secret", [key]),
	}
}

deny contains result if {
	input.kind == "ConfigMap"
	some key, _ in input.binaryData
	lib.secret_like_key(key)
	result := {
		"rule": "secret-in-configmap",
		"field": concat("", ["binaryData[", key, "]"]),
		"msg": sprintf("key %s looks like a credential; move it to a Secret", [key]),
	}
}

# A value that is a credential whatever its key is called.
deny contains result if {
	input.kind == "ConfigMap"
	lib.configmap_may_hold_credentials
	some key, value in input.data
	what := lib.credential_in_value(value)
	result := {
		"rule": "secret-in-configmap",
		"field": concat("", ["data[", key, "]"]),
		"msg": sprintf("the value of key %s contains %s; move it to a Secret", [key, what]),
	}
}

# A configuration file (properties, YAML, JSON, .env) that sets a credential setting to a literal.
deny contains result if {
	input.kind == "ConfigMap"
	lib.configmap_may_name_secrets
	some key, value in input.data
	some setting in lib.literal_secret_settings(value)
	result := {
		"rule": "secret-in-configmap",
		"field": concat("", ["data[", key, "]"]),
		"msg": sprintf(
			"the file in key %s sets %s to a literal value; move the value to a Secret and mount it, or reference an environment variable filled from one",
			[key, setting],
		),
	}
}
