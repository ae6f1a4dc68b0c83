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

# secret_names_pattern is secret_name_pattern for reversed lines, each starting with a newline
# and a name (written out; a test checks it).
secret_names_pattern := `\n(?:(?:yek|syek|eulav|lav|gnirts|rts|atad|txet|nialp|txetnialp|war|46b|46esab|xeh|mep|hsah|setyb|esab|terces|nekot|ssecca|[0-9]+)[_.\-]?)*(?:drowssap|dwssap|esarhpssap|s?terces|nekot|s?laitnederc|(?:ssap|dwp)(?:[_.\-\t]|$)|yek[_.\-]?(?:ipa|etavirp|terces|noitpyrcne|gningis|retsam|htua|camh|esnecil))`

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
# below look at all literal environment variables (or ConfigMap values) of the input at once,
# one per line, so that the common object, which holds no credential, costs one scan per
# pattern; only an object that passes a gate is looked at variable by variable.

# env_lines has one line per literal environment variable, "\nVALUE\tNAME". Every line starts
# with a newline so that the gates' patterns can start with one: Go's regexp then jumps from
# line to line instead of trying every position. Written backwards (after one more newline in
# front), each line starts with the name.
env_lines := concat("", [concat("", ["\n", env.value, "\t", env.name]) |
	some ct in containers
	some env in ct.container.env
	is_string(env.value)
])

env_values_may_hold_credentials if may_hold_credentials(env_lines)

env_names_may_be_secret if {
	regex.match(secret_names_pattern, concat("", ["\n", strings.reverse(lower(env_lines))]))
}

env_may_hold_secrets if env_values_may_hold_credentials

env_may_hold_secrets if env_names_may_be_secret

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

configmap_text := concat("", [concat("", ["\n", v]) | some v in input.data])

configmap_may_hold_credentials if may_hold_credentials(configmap_text)

# A plain substring test is much cheaper than any regular expression over a whole file.
configmap_may_set_secrets if {
	text := lower(configmap_text)
	some hint in ["pass", "pwd", "secret", "token", "credential", "key"]
	contains(text, hint)
}

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
