package secret_in_configmap_test

import data.gitops.testlib

configmap_with(entries) := object.union(object.remove(testlib.configmap, ["data"]), {"data": entries})

test_secret_in_configmap_denies_credential_keys if {
	cases := {
		"DB_PASSWORD": "cm-value-1",
		"api_key": "cm-value-2",
		"password.txt": "cm-value-3",
		"credentials.json": "{\"type\": \"service_account\"}",
		"oauth.client-secret": "cm-value-4",
	}
	wrong := {key |
		some key, value in cases
		results := testlib.deny(configmap_with({key: value}), "secret-in-configmap")
		not denied_key(results, key, value)
	}
	print("not denied as expected:", wrong)
	wrong == set()
}

denied_key(results, key, value) if {
	testlib.fields(results) == {sprintf("data[%s]", [key])}
	not contains(testlib.messages(results), value)
}

test_secret_in_configmap_denies_credential_values if {
	cases := {
		"tls.key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n",
		"DATABASE_URL": "mysql://app:cm-value-5@db:3306/app",
		"notify": "xoxb-1234567890-abcdefghij",
	}
	wrong := {key |
		some key, value in cases
		results := testlib.deny(configmap_with({key: value}), "secret-in-configmap")
		not denied_key(results, key, value)
	}
	print("not denied as expected:", wrong)
	wrong == set()
}

test_secret_in_configmap_denies_credentials_in_config_files if {
	files := {
		"application.properties": "server.port=8080\nspring.datasource.password=cm-value-6\n",
		"config.yaml": "database:\n  host: db\n  password: \"cm-value-7\"\n",
		"settings.json": "{\n  \"apiKey\": \"cm-value-8\",\n  \"region\": \"eu\"\n}\n",
		".env": "DB_HOST=db\nDB_PASSWORD=cm-value-9\n",
	}
	wrong := {key |
		some key, value in files
		results := testlib.deny(configmap_with({key: value}), "secret-in-configmap")
		not denied_key(results, key, value)
	}
	print("not denied as expected:", wrong)
	wrong == set()
}

test_secret_in_configmap_names_the_setting if {
	cm := configmap_with({"application.properties": "spring.datasource.password=cm-value-6\n"})
	contains(testlib.messages(testlib.deny(cm, "secret-in-configmap")), "spring.datasource.password")
}

test_secret_in_configmap_allows_plain_settings_and_references if {
	entries := {
		"LOG_LEVEL": "info",
		"SECRET_NAME": "db-credentials",
		"TOKEN_URL": "https://auth.example.com/token",
		"PASSWORD_FILE": "/etc/secrets/password",
		"password-policy.json": "{\"minLength\": 12}",
		"application.properties": "server.port=8080\nspring.datasource.password=${DB_PASSWORD}\nspring.datasource.url=jdbc:postgresql://db/app\n",
		"config.yaml": "database:\n  password:\n    secretRef: db\n  passwordFile: /etc/db/password\n",
		"settings.json": "{\"credentials\": {\"source\": \"env\"}}",
		"nginx.conf": "server { listen 8080; }",
	}
	results := testlib.deny(configmap_with(entries), "secret-in-configmap")
	print("denied:", testlib.fields(results))
	count(results) == 0
}

test_secret_in_configmap_checks_binary_data_keys if {
	cm := object.union(testlib.configmap, {"binaryData": {"keystore.password": "aGVsbG8="}})
	testlib.fields(testlib.deny(cm, "secret-in-configmap")) == {"binaryData[keystore.password]"}
}

test_secret_in_configmap_ignores_other_kinds if {
	secret := object.union(configmap_with({"DB_PASSWORD": "cm-value-1"}), {"kind": "Secret"})
	count(testlib.deny(secret, "secret-in-configmap")) == 0
}
