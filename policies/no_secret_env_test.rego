package no_secret_env_test

import data.gitops.testlib

# Literal values that are credentials, by name or by value. The values are distinctive so
# that the tests can check that no message repeats them.
secret_envs := {
	"DB_PASSWORD": "hunter2-value",
	"POSTGRES_PASSWORD": "pg-value-1",
	"dbPassword": "camel-value-1",
	"DBPassword": "camel-value-2",
	"DBPASSWORD": "joined-value-1",
	"DB_PASS": "short-value-1",
	"SMTP_PASSWD": "passwd-value-1",
	"ADMIN_PWD": "pwd-value-1",
	"PASSWORD2": "numbered-value-1",
	"API_TOKEN": "token-value-1",
	"GITHUB_TOKEN": "token-value-2",
	"VAULT_TOKEN": "token-value-3",
	"SECRET_KEY": "django-value-1",
	"SECRET_KEY_BASE": "rails-value-1",
	"AWS_SECRET_ACCESS_KEY": "aws-value-1",
	"CLIENT_SECRET": "oauth-value-1",
	"JWT_SECRET": "jwt-value-1",
	"API_KEY": "api-value-1",
	"APIKEY": "api-value-2",
	"x-api-key": "api-value-3",
	"TLS_PRIVATE_KEY": "key-value-1",
	"ENCRYPTION_KEY": "key-value-2",
	"DB_CREDENTIALS": "creds-value-1",
	"GPG_PASSPHRASE": "phrase-value-1",
	# Values that are credentials whatever the name.
	"DATABASE_URL": "postgres://app:url-value-1@db:5432/app",
	"TLS_KEY": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
	"CONNECTION": "Server=db;User Id=app;Password=conn-value-1;",
	"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
	"NOTIFY": "xoxb-1234567890-abcdefghij",
	"SETTINGS": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
}

# Literal values that are no credentials, though some names say secret: they are references
# to where the secret is, settings about it, placeholders or flags.
plain_envs := {
	"TOKEN_URL": "https://auth.example.com/oauth/token",
	"OAUTH_TOKEN_ENDPOINT": "https://auth.example.com/token",
	"SECRET_NAME": "db-credentials",
	"PASSWORD_FILE": "/run/secrets/db/password",
	"DB_PASSWORD_FILE": "/var/run/secrets/db/password",
	"PRIVATE_KEY_PATH": "/etc/tls/tls.key",
	"GOOGLE_APPLICATION_CREDENTIALS": "/var/secrets/google/key.json",
	"PASSWORD_MIN_LENGTH": "12",
	"TOKEN_TTL": "3600",
	"ENABLE_TOKEN_AUTH": "true",
	"API_KEY_HEADER": "X-Api-Key",
	"CACHE_KEY": "users-v2",
	"MAX_TOKENS": "4096",
	"SMTP_PASSWORD": "$(SMTP_PASSWORD_FROM_SECRET)",
	"SESSION_SECRET": "${SESSION_SECRET}",
	"DB_SECRET": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db",
	"KEY_VAULT_URI": "https://shop.vault.azure.net/",
	"DB_TOKEN": "",
	"DATABASE_URL": "postgres://app@db:5432/app",
	"PWD": "/app",
	"LOG_LEVEL": "debug",
}

deployment_with_env(name, value) := testlib.with_container(
	testlib.deployment,
	testlib.patched_container({"env": [{"name": name, "value": value}]}, []),
)

test_no_secret_env_denies_secret_literals if {
	wrong := {name |
		some name, value in secret_envs
		results := testlib.deny(deployment_with_env(name, value), "no-secret-env")
		not denied_once(results, name, value)
	}
	print("not denied as expected:", wrong)
	wrong == set()
}

denied_once(results, name, value) if {
	count(results) == 1
	testlib.fields(results) == {sprintf("spec.template.spec.containers[name=api].env[name=%s]", [name])}
	not contains(testlib.messages(results), value)
	contains(testlib.messages(results), name)
}

test_no_secret_env_allows_references_and_settings if {
	wrong := {name |
		some name, value in plain_envs
		count(testlib.deny(deployment_with_env(name, value), "no-secret-env")) != 0
	}
	print("denied although no secret:", wrong)
	wrong == set()
}

test_no_secret_env_allows_secret_key_refs if {
	env := [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
	d := testlib.with_container(testlib.deployment, testlib.patched_container({"env": env}, []))
	count(testlib.deny(d, "no-secret-env")) == 0
}

test_no_secret_env_checks_every_workload_kind if {
	every kind, workload in testlib.workloads {
		obj := testlib.with_container(workload, testlib.patched_container({"env": [{"name": "DB_PASSWORD", "value": "hunter2-value"}]}, []))
		testlib.fields(testlib.deny(obj, "no-secret-env")) == {sprintf("%s[name=api].env[name=DB_PASSWORD]", [testlib.containers_path[kind]])}
	}
}

test_no_secret_env_checks_init_containers if {
	init := {"name": "migrate", "image": "migrate:1.0", "env": [{"name": "DB_PASSWORD", "value": "hunter2-value"}]}
	d := testlib.with_pod_spec(testlib.deployment, {"initContainers": [init]})
	testlib.fields(testlib.deny(d, "no-secret-env")) == {"spec.template.spec.initContainers[name=migrate].env[name=DB_PASSWORD]"}
}

test_no_secret_env_ignores_custom_resources_of_the_same_kind if {
	d := object.union(deployment_with_env("DB_PASSWORD", "hunter2-value"), {"apiVersion": "example.com/v1"})
	count(testlib.deny(d, "no-secret-env")) == 0
}
