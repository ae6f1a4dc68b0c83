package lib_test

import data.gitops.lib

test_secret_like_name_reads_every_spelling if {
	secret := {
		"DB_PASSWORD", "dbPassword", "DBPassword", "db.password", "db-password", "PASSWORD2",
		"x-api-key", "apiKey", "SECRET_KEY_BASE", "AWS_SECRET_ACCESS_KEY", "DB_PASS", "DB_CREDENTIALS",
	}
	plain := {"TOKEN_URL", "SECRET_NAME", "PASSWORD_FILE", "CACHE_KEY", "MAX_TOKENS", "BYPASS", "monkey", "keyboard"}
	wrong := {name | some name in secret; not lib.secret_like_name(name)} | {name | some name in plain; lib.secret_like_name(name)}
	print("misjudged:", wrong)
	wrong == set()
}

test_secret_like_key_accepts_file_extensions if {
	lib.secret_like_key("password.txt")
	lib.secret_like_key("credentials.json")
	lib.secret_like_key("db.password")
	not lib.secret_like_key("password-policy.json")
	not lib.secret_like_key("application.properties")
}

test_secret_key_pattern_is_the_name_pattern_after_an_extension if {
	ext := `^(?:(?:txt|mep|yek|nosj|lmay|lmy|fnoc|gfc|ini|vne|seitreporp|lmot|lmx)\.)?`
	lib.secret_key_pattern == concat("", [ext, substring(lib.secret_name_pattern, 1, -1)])
}

test_secret_names_pattern_is_the_name_pattern_per_line if {
	lib.secret_names_pattern == concat("", ["\\n", substring(replace(lib.secret_name_pattern, `(?:[_.\-]|$)`, `(?:[_.\-\n]|$)`), 1, -1)])
}

test_may_hold_credentials_agrees_with_credential_in_value if {
	values := [
		"-----BEGIN EC PRIVATE KEY-----", "postgres://app:pw@db/app", "Server=db;Password=pw;",
		"Password=pw;Server=db", "AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
		"xoxb-1234567890-abcdefghij", "https://example.com", "info", "/etc/secret",
	]
	wrong := {v | some v in values; gate(concat("", ["\n", v])) != detail(v)}
	print("gate and detail disagree on:", wrong)
	wrong == set()
}

gate(v) := true if lib.may_hold_credentials(v) else := false

detail(v) := true if lib.credential_in_value(v) else := false

# The gates must hold whenever the detailed tests they stand in front of would find something
# (they may hold more often). Each case is checked with the gate's own input.

secret_setting_texts := [
	"spring.datasource.password=changeme\n",
	"  DB_PASSWORD: 'hunter2'\n",
	"{\n  \"apiKey\": \"k-1\",\n}\n",
	"x=1\nSECRET_KEY_BASE = abc # comment\n",
	"oauth.client-secret=a{b\n",
	"db.pass=${X}y\n",
	"PASSWORD=ARN:AWS:ssm:x\n",
	"token=\"\"\n",
	"pwd=\n",
]

test_configmap_gate_holds_for_every_literal_secret_setting if {
	found := {text | some text in secret_setting_texts; count(lib.literal_secret_settings(text)) > 0}
	count(found) > 0
	missed := {text |
		some text in found
		not lib.configmap_may_name_secrets with input as {"kind": "ConfigMap", "data": {"f": text}}
	}
	print("gate missed:", missed)
	missed == set()
}

test_configmap_gate_holds_for_every_secret_key if {
	keys := ["password.txt", "credentials.json", "DB_PASSWORD", "x-api-key", "oauth.client-secret", "db.pass", "TOKEN2"]
	missed := {key |
		some key in keys
		lib.secret_like_key(key)
		not lib.configmap_may_name_secrets with input as {"kind": "ConfigMap", "data": {key: "v"}}
	}
	print("gate missed:", missed)
	missed == set()
}

test_configmap_gate_passes_references_and_plain_settings if {
	plain := "server.port=8080\nspring.datasource.password=${DB_PASSWORD}\nkeystore.path=/etc/ks\n"
	not lib.configmap_may_name_secrets with input as {"kind": "ConfigMap", "data": {"application.properties": plain, "LOG": "info"}}
}

test_lower_case_non_secret_value_pattern_implies_non_secret_value if {
	values := ["", "TRUE", "Off", "${X}", "{{ .Values.x }}", "<set-me>", "/etc/x", "ARN:AWS:ssm:x", "File://x", "changeme", "$(X)"]
	wrong := {v |
		some v in values
		regex.match(lib.lower_case_non_secret_value_pattern, lower(v))
		not lib.non_secret_value(v)
	}
	print("wrongly taken for no secret:", wrong)
	wrong == set()
}

test_env_gates_hold_for_every_secret_literal if {
	envs := [
		{"name": "DB_PASSWORD", "value": "hunter2"},
		{"name": "x-api-key", "value": "k"},
		{"name": "URL", "value": "postgres://app:pw@db/app"},
		{"name": "NOTIFY", "value": "xoxb-1234567890-abcdefghij"},
	]
	missed := {env.name |
		some env in envs
		pod := {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "c", "env": [{"name": "LOG", "value": "info"}, env]}]}}
		not lib.env_may_hold_secrets with input as pod
	}
	print("gate missed:", missed)
	missed == set()
}

test_credential_in_value_names_the_first_credential if {
	lib.credential_in_value("-----BEGIN PRIVATE KEY-----\nhttps://u:p4ss@example.com") == "a private key"
	not lib.credential_in_value("https://example.com/token")
}

test_image_tag_ignores_registry_ports if {
	lib.image_tag("registry:5000/app:1.0") == "1.0"
	not lib.image_tag("registry:5000/app")
	lib.image_tag("app:latest") == "latest"
}

test_pod_spec_path_per_kind if {
	lib.pod_spec_path == "spec" with input as {"apiVersion": "v1", "kind": "Pod"}
	lib.pod_spec_path == "spec.template.spec" with input as {"apiVersion": "apps/v1", "kind": "Deployment"}
	lib.pod_spec_path == "spec.jobTemplate.spec.template.spec" with input as {"apiVersion": "batch/v1", "kind": "CronJob"}
	not lib.pod_spec_path with input as {"apiVersion": "v1", "kind": "Service"}
	not lib.pod_spec_path with input as {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job"}
}
