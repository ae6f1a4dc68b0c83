package policy

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

// fuzzCorpus builds workloads and ConfigMaps with random names and values drawn from the
// credential vocabulary of the rules' tests, to exercise the secret detection broadly.
func fuzzCorpus(n int) []render.Object {
	rnd := rand.New(rand.NewPCG(7, 11))
	pick := func(xs []string) string { return xs[rnd.IntN(len(xs))] }
	words := []string{"DB", "API", "KEY", "PASSWORD", "PASS", "PWD", "TOKEN", "TOKENS", "SECRET", "SECRETS", "URL", "FILE", "NAME", "MIN", "LENGTH", "HEADER", "CACHE", "PRIVATE", "ACCESS", "AWS", "BASE", "CLIENT", "CREDENTIALS", "SMTP", "PASSWD", "PASSPHRASE", "ENCRYPTION", "SIGNING", "MASTER", "AUTH", "HMAC", "LICENSE", "VALUE", "B64", "2", "TLS", "BYPASS", "ID", "HOST", "PORT", "PATH", "ENDPOINT", "TTL", "Password", "apiKey", "x"}
	seps := []string{"_", "_", "_", ".", "-", ""}
	values := []string{"", "true", "off", "~", "info", "8080", "hunter2", "changeme", "s3cr3t-value", "$(OTHER_VAR)", "${PLACEHOLDER}", "{{ .Values.x }}", "<set-me>",
		"/etc/secrets/password", "file:///x", "https://auth.example.com/token", "postgres://app:pw-1@db:5432/app", "postgres://app@db/app", "mysql://u:${P}@h/db", "redis://:p4ss@redis:6379",
		"arn:aws:secretsmanager:eu-west-1:1:secret:db", "projects/p/secrets/s", "vault:secret/data/x", "ref+awssm://x", "sops:abc",
		"AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", "AIzaSyA1234567890abcdefghijklmnopqrstuv", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "github_pat_abcdefghijklmnopqrstuv", "glpat-abcdefghijklmnopqrst",
		"xoxb-1234567890-abc", "sk_live_abcdefghijklmnopqrstuvwx", "rk_live_abcdefghijklmnopqrstuvwx", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.abcdefghijklmn",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "Server=db;User Id=app;Password=conn-1;", "Server=db;Password=$x;", "Password=abc;Server=db", "AccountKey=abc;", "a;pwd = x",
		"\npassword=abc;", "user=app password=abc", "key value", "line1\nline2", "ghp_short", "AKIA123", "some\ttab"}
	name := func() string {
		k := 1 + rnd.IntN(4)
		parts := make([]string, k)
		for i := range parts {
			parts[i] = pick(words)
		}
		s := parts[0]
		for _, p := range parts[1:] {
			s += pick(seps) + p
		}
		if rnd.IntN(6) == 0 {
			s = strings.ToLower(s)
		}
		return s
	}
	exts := []string{"", "", ".txt", ".json", ".yaml", ".env", ".properties", ".pem", ".conf", ".xml", ".md"}
	settingLine := func() string {
		nm, v := name(), pick(values)
		v = strings.ReplaceAll(v, "\n", " ")
		switch rnd.IntN(6) {
		case 0:
			return nm + "=" + v
		case 1:
			return "  " + nm + ": " + v
		case 2:
			return fmt.Sprintf("  %q: %q,", nm, v)
		case 3:
			return nm + " = '" + v + "'"
		case 4:
			return "# " + nm + "=" + v
		default:
			return nm + ":\n    secretRef: x"
		}
	}
	var out []render.Object
	for i := 0; len(out) < n; i++ {
		ns := fmt.Sprintf("fz-%d", i%7)
		if i%2 == 0 {
			var containers []any
			for c := range 1 + rnd.IntN(2) {
				var env []any
				for range rnd.IntN(8) {
					e := map[string]any{"name": name()}
					switch rnd.IntN(9) {
					case 8:
						e["name"] = int64(5) // an invalid manifest: a name that is no string
						e["value"] = pick(values)
					case 0:
						e["valueFrom"] = map[string]any{"secretKeyRef": map[string]any{"name": "s", "key": "k"}}
					case 1:
						e["value"] = int64(3)
					default:
						e["value"] = pick(values)
					}
					env = append(env, e)
				}
				containers = append(containers, map[string]any{"name": fmt.Sprintf("c%d", c), "image": "app:1", "env": env})
			}
			kind := []string{"Deployment", "Pod", "Job", "CronJob", "DaemonSet"}[rnd.IntN(5)]
			spec := map[string]any{"containers": containers}
			if rnd.IntN(30) == 0 {
				spec["containers"] = map[string]any{"a": containers[0]} // an invalid manifest
			}
			obj := map[string]any{"apiVersion": "apps/v1", "kind": kind, "metadata": map[string]any{"name": fmt.Sprintf("w%d", i), "namespace": ns}}
			switch kind {
			case "Pod":
				obj["apiVersion"] = "v1"
				obj["spec"] = spec
			case "CronJob":
				obj["apiVersion"] = "batch/v1"
				obj["spec"] = map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": spec}}}}
			default:
				obj["spec"] = map[string]any{"template": map[string]any{"spec": spec}}
			}
			out = append(out, render.Object{Obj: &unstructured.Unstructured{Object: obj}, Source: "fuzz"})
			continue
		}
		data := map[string]any{}
		for range rnd.IntN(5) {
			key := name() + pick(exts)
			if rnd.IntN(2) == 0 {
				data[key] = pick(values)
				continue
			}
			var b strings.Builder
			for range 1 + rnd.IntN(6) {
				b.WriteString(settingLine())
				b.WriteString("\n")
			}
			data[key] = b.String()
		}
		switch rnd.IntN(12) {
		case 0:
			data[name()] = int64(7) // an invalid manifest: a value that is no string
		case 1:
			data[name()+"\n"+name()] = pick(values)
		}
		var content any = data
		if rnd.IntN(40) == 0 {
			content = []any{pick(values), "password=x"} // an invalid manifest: data as a list
		}
		obj := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": fmt.Sprintf("cm%d", i), "namespace": ns}, "data": content}
		if rnd.IntN(5) == 0 {
			obj["binaryData"] = map[string]any{name() + pick(exts): "aGVsbG8="}
		}
		out = append(out, render.Object{Obj: &unstructured.Unstructured{Object: obj}, Source: "fuzz"})
	}
	return out
}
