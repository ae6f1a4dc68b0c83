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
