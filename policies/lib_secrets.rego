# Helpers that recognise credentials by name or by value, for no-secret-env and
# secret-in-configmap. They run for every environment variable and ConfigMap entry, so each
# test is one regular expression where possible: OPA compiles each pattern once, and a string
# literal costs nothing per evaluation, where a comprehension would be rebuilt for every object.
package gitops.lib

# Secret-looking names. A name looks like it holds a secret when one of its words says so
# (password, token, secret, api key, ...) and every word after that one still names the secret
# itself (DB_PASSWORD, SECRET_KEY_BASE, AWS_SECRET_ACCESS_KEY) rather than something about it
# (TOKEN_URL, SECRET_NAME, PASSWORD_FILE, PASSWORD_MIN_LENGTH). KEY is a secret only after API,
# PRIVATE and the like (API_KEY, not CACHE_KEY); PASS and PWD only as whole words (DB_PASS, not
# BYPASS); TOKENS is not TOKEN (MAX_TOKENS).
#
# The test runs on the lower-cased name written backwards, so that the regular expression is
# anchored at its start: Go's regexp then reads the name once instead of trying every position,
# which matters for a test that runs on every environment variable name.
secret_like_name(name) if regex.match(secret_name_pattern, strings.reverse(lower(name)))

# secret_like_key is secret_like_name for a ConfigMap key, which may also be a file name with
# its extension (password.txt, credentials.json).
secret_like_key(key) if regex.match(secret_key_pattern, strings.reverse(lower(key)))

# Backwards: the words that may follow the secret word and still name its value (key, base,
# access, value, a number, ...), each with an optional separator, then the secret word itself.
secret_name_pattern := `^(?:(?:yek|syek|eulav|lav|gnirts|rts|atad|txet|nialp|txetnialp|war|46b|46esab|xeh|mep|hsah|setyb|esab|terces|nekot|ssecca|[0-9]+)[_.\-]?)*(?:drowssap|dwssap|esarhpssap|s?terces|nekot|s?laitnederc|(?:ssap|dwp)(?:[_.\-]|$)|yek[_.\-]?(?:ipa|etavirp|terces|noitpyrcne|gningis|retsam|htua|camh|esnecil))`

# secret_names_pattern is secret_name_pattern for names written backwards one per line, each
# after a newline (written out; a test checks it).
secret_names_pattern := `\n(?:(?:yek|syek|eulav|lav|gnirts|rts|atad|txet|nialp|txetnialp|war|46b|46esab|xeh|mep|hsah|setyb|esab|terces|nekot|ssecca|[0-9]+)[_.\-]?)*(?:drowssap|dwssap|esarhpssap|s?terces|nekot|s?laitnederc|(?:ssap|dwp)(?:[_.\-\n]|$)|yek[_.\-]?(?:ipa|etavirp|terces|noitpyrcne|gningis|retsam|htua|camh|esnecil))`

# secret_name_pattern after an optional configuration-file extension (.txt, .json, ...),
# written out (a test checks it).
secret_key_pattern := `^(?:(?:txt|mep|yek|nosj|lmay|lmy|fnoc|gfc|ini|vne|seitreporp|lmot|lmx)\.)?(?:(?:yek|syek|eulav|lav|gnirts|rts|atad|txet|nialp|txetnialp|war|46b|46esab|xeh|mep|hsah|setyb|esab|terces|nekot|ssecca|[0-9]+)[_.\-]?)*(?:drowssap|dwssap|esarhpssap|s?terces|nekot|s?laitnederc|(?:ssap|dwp)(?:[_.\-]|$)|yek[_.\-]?(?:ipa|etavirp|terces|noitpyrcne|gningis|retsam|htua|camh|esnecil))`

# non_secret_value matches values that are no secret even under a secret-looking name: empty,
# a flag, a reference to where the secret really is or a placeholder. In order: empty or a
# flag; a Kubernetes dependent variable $(OTHER_VAR); ${PLACEHOLDER}; {{ template }};
# <set-me>; an absolute path of a mounted file; file://...; a URL without credentials (token
# endpoint, vault address); secret manager references (AWS, Google, Vault, SOPS and friends).
non_secret_value(v) if regex.match(non_secret_value_pattern, v)

non_secret_value_pattern := `(?s)^(?:(?i:true|false|yes|no|on|off|enabled|disabled|none|null|nil|~|-)?|\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[^}]+\}|\{\{.*\}\}|<[^<>]*>|/\S*|file://.*|[a-zA-Z][a-zA-Z0-9+.-]*://[^@\s]*|arn:aws[a-z-]*:(?:secretsmanager|ssm|kms):.*|projects/[^/]+/secrets/.*|(?:vault|ref\+[a-z0-9]+|sops|awssm|gcpsm|azkv):.*)$`

# credential_in_value names what a value holds when it is a credential whatever its name says:
# a private key, a URL or connection string with a password, or a token in a well-known format.
credential_in_value(v) := found[0] if {
	found := [what |
		some [what, pattern] in credential_patterns
		regex.match(pattern, v)
	]
	count(found) > 0
}

# Each pattern starts with a literal where the format allows, so that Go's regexp skips to its
# first occurrence instead of trying every position; that makes ten patterns, applied one by
# one, several times faster than their union.
credential_patterns := [
	["a private key", `-----BEGIN [A-Z0-9 ]*PRIVATE KEY`],
	["a URL with a password", `://[^/\s:@]+:[^/\s@$][^/\s@]*@`],
	["a connection string with a password", `;\s*(?i:password|pwd|accountkey|sharedaccesskey)\s*=\s*[^;\s$]`],
	["a connection string with a password", `(?m)^[ \t]*(?i:password|pwd|accountkey|sharedaccesskey)[ \t]*=[ \t]*[^;\s$][^;\n]*;`],
	["an AWS access key", `A[KS]IA[0-9A-Z]{16}`],
	["a GitHub token", `gh[pousr]_[A-Za-z0-9]{36}`],
	["a GitHub token", `github_pat_[A-Za-z0-9_]{22}`],
	["a GitLab token", `glpat-[A-Za-z0-9_-]{20}`],
	["a Slack token", `xox[abprs]-[A-Za-z0-9-]{10}`],
	["a Google API key", `AIza[0-9A-Za-z_-]{35}`],
	["a Stripe secret key", `k_live_[0-9a-zA-Z]{24}`],
	["a JSON Web Token", `eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10}`],
]

# Scanning every value with every pattern would dominate the cost of the policies. The gates
# below look at all literal environment variables (or ConfigMap entries) of the input at once,
# one per line, so that the common object, which holds no credential, costs one scan per
# pattern; only an object that passes a gate is looked at variable by variable. Each gate
# matches whenever the detailed test would (a test checks it), and is built with as few
# evaluation steps as possible: in OPA every expression costs about as much as a short regular
# expression over a whole file, so the lists are gathered with one reference each
# (container_lists[_][_].env[_].value) rather than an expression per element.

# env_value_text has one line per literal environment variable value, each between newlines so
# that the gates' patterns can start with one: Go's regexp then jumps from line to line instead
# of trying every position. A value that is no string (an invalid manifest) makes concat fail;
# the detailed tests skip those, and so does the else branch.
env_value_text := concat("\n", ["", concat("\n", [v | v := container_lists[_][_].env[_].value]), ""]) if {
	true
} else := concat("\n", [
	"",
	concat("\n", [v | v := container_lists[_][_].env[_].value; is_string(v)]),
	"",
])

# env_name_text has the names of the environment variables with a literal value, one per line.
env_name_text := concat("\n", ["", concat("\n", [env.name | env := container_lists[_][_].env[_]; is_string(env.value)]), ""]) if {
	true
} else := concat("\n", [
	"",
	concat("\n", [env.name | env := container_lists[_][_].env[_]; is_string(env.value); is_string(env.name)]),
	"",
])

env_values_may_hold_credentials if may_hold_credentials(env_value_text)

# Written backwards, each name starts after a newline.
env_names_may_be_secret if regex.match(secret_names_pattern, strings.reverse(lower(env_name_text)))

# env_may_hold_secrets is env_values_may_hold_credentials or env_names_may_be_secret, written out:
# it runs for every workload, and a rule reference costs about as much as the test itself.
env_may_hold_secrets if may_hold_credentials(env_value_text)

env_may_hold_secrets if regex.match(secret_names_pattern, strings.reverse(lower(env_name_text)))

# may_hold_credentials is a cheaper, coarser credential_in_value for the gates: fewer patterns,
# each starting with a literal, and lines that start with a newline.
may_hold_credentials(text) if {
	some pattern in [
		`-----BEGIN [A-Z0-9 ]*PRIVATE KEY`,
		`://[^/\s:@]+:[^/\s@$][^/\s@]*@`,
		`;\s*(?i:password|pwd|accountkey|sharedaccesskey)\s*=\s*[^;\s$]`,
		`\n[ \t]*(?i:password|pwd|accountkey|sharedaccesskey)[ \t]*=[ \t]*[^;\s$][^;\n]*;`,
		`A(?:[KS]IA[0-9A-Z]{16}|Iza[0-9A-Za-z_-]{35})`,
		`g(?:h[pousr]_[A-Za-z0-9]{36}|ithub_pat_[A-Za-z0-9_]{22}|lpat-[A-Za-z0-9_-]{20})`,
		`xox[abprs]-[A-Za-z0-9-]{10}`,
		`k_live_[0-9a-zA-Z]{24}`,
		`eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10}`,
	]
	regex.match(pattern, text)
}

# env_secret_reason says why a literal environment variable holds a credential; undefined when
# it does not.
env_secret_reason(env) := sprintf("contains %s", [what]) if {
	env_values_may_hold_credentials
	what := credential_in_value(env.value)
} else := "looks like a secret by its name" if {
	env_names_may_be_secret
	secret_like_name(env.name)
	not non_secret_value(env.value)
}

configmap_text := concat("\n", ["", concat("\n", [v | v := input.data[_]]), ""]) if {
	true
} else := concat("\n", [
	"",
	concat("\n", [v | v := input.data[_]; is_string(v)]),
	"",
])

configmap_may_hold_credentials if may_hold_credentials(configmap_text)

# configmap_may_name_secrets: some key of the ConfigMap's data is named like a credential, or
# some line of its values sets a setting named like one to a value that is not clearly a
# reference or placeholder. It holds whenever secret_like_key holds for a key or
# literal_secret_settings finds a setting in a value (a test checks it), so that the rules
# look at keys and settings one by one only then. Every credential name contains one of the
# hints pass, pwd, secret, token, credential or key (password and passwd contain pass, API_KEY
# contains key); each of hint_setting_patterns runs, in the lower-cased text, from such a hint
# in a name over the rest of the name and the separator to the same value as setting_pattern
# captures. Each key is written as a line key=\x01, a setting with a literal value. One pattern
# per hint, each starting with its literal, because those Go's regexp runs fast, jumping from one
# occurrence to the next, where a pattern that starts with a choice tries every position.
configmap_may_name_secrets if {
	text := lower(concat("", [concat("=\u0001\n", configmap_keys), "=\u0001", configmap_text]))
	some pattern in hint_setting_patterns
	some m in regex.find_all_string_submatch_n(pattern, text, -1)
	not regex.match(lower_case_non_secret_value_pattern, m[1])
}

configmap_keys := object.keys(input.data) if {
	true
} else := set()

hint_setting_patterns := [
	`pass[a-z0-9_.\-]*["']?[ \t]*[:=][ \t]*["']?((?:[^\s"'#,{\[][^\s"'#,]*)?)`,
	`pwd[a-z0-9_.\-]*["']?[ \t]*[:=][ \t]*["']?((?:[^\s"'#,{\[][^\s"'#,]*)?)`,
	`secret[a-z0-9_.\-]*["']?[ \t]*[:=][ \t]*["']?((?:[^\s"'#,{\[][^\s"'#,]*)?)`,
	`token[a-z0-9_.\-]*["']?[ \t]*[:=][ \t]*["']?((?:[^\s"'#,{\[][^\s"'#,]*)?)`,
	`credential[a-z0-9_.\-]*["']?[ \t]*[:=][ \t]*["']?((?:[^\s"'#,{\[][^\s"'#,]*)?)`,
	`key[a-z0-9_.\-]*["']?[ \t]*[:=][ \t]*["']?((?:[^\s"'#,{\[][^\s"'#,]*)?)`,
]

# lower_case_non_secret_value_pattern holds for a lower-cased value only when
# non_secret_value_pattern holds for the value itself, whatever its case was: the
# alternatives that lower-casing can fake (ARN:AWS:... lower-cases to arn:aws:..., a Kelvin
# sign to k, a dotted capital I to i) are left out.
lower_case_non_secret_value_pattern := `(?s)^(?:|true|false|yes|no|on|off|none|null|~|-|\$\{[^}]+\}|\{\{.*\}\}|<[^<>]*>|/\S*)$`

# literal_secret_settings are the names of the credential settings that a configuration file
# (key = value, key: value, "key": "value") sets to a literal value.
literal_secret_settings(text) := {name |
	some m in regex.find_all_string_submatch_n(setting_pattern, text, -1)
	name := m[1]
	secret_like_name(name)
	not non_secret_value(m[2])
}

# Every setting is captured; secret_like_name picks. The value stops at quotes, comments and
# commas (JSON); a value that opens a nested object or list ({, [) is no literal.
setting_pattern := `(?m)^[ \t]*["']?([A-Za-z0-9_.\-]+)["']?[ \t]*[:=][ \t]*["']?((?:[^\s"'#,{\[][^\s"'#,]*)?)`
