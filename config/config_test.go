package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`
repo:
  url: https://git.example/platform/deployments.git
environments:
- name: dev
- name: prod
  sync: manual
  prune: false
  healthTimeout: 10m
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Repo:      Repo{URL: "https://git.example/platform/deployments.git", Branch: "main", PollInterval: Duration{time.Minute}, CacheDir: "/var/cache/gitops-agent"},
		Listen:    ":8080",
		Namespace: "gitops-agent",
		Policies:  Policies{UnknownKinds: "deny"},
		Environments: []Environment{
			{Name: "dev", Path: "environments/dev", Sync: SyncAuto, Prune: ptr(true), HealthTimeout: Duration{5 * time.Minute}, Drift: Drift{IgnoreHPAReplicas: ptr(true)}},
			{Name: "prod", Path: "environments/prod", Sync: SyncManual, Prune: ptr(false), HealthTimeout: Duration{10 * time.Minute}, Drift: Drift{IgnoreHPAReplicas: ptr(true)}},
		},
		LeaderElection: LeaderElection{Enabled: ptr(true), LeaseName: "gitops-agent"},
		HistoryLimit:   20,
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if e, ok := cfg.Environment("prod"); !ok || e.Sync != SyncManual {
		t.Errorf("Environment(prod) = %+v, %v", e, ok)
	}
}

func TestParsePromotionDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`
repo: {url: x}
environments:
- name: prod
  healthTimeout: 7m
  drift: {selfHeal: true, ignoreHPAReplicas: false, ignore: [{kind: ConfigMap, name: "cache-*", paths: [/data/warm]}]}
  promotion: {strategy: blueGreen, routers: [Service/healthcare-prod/db-query]}
`))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := cfg.Environment("prod")
	want := Environment{
		Name: "prod", Path: "environments/prod", Sync: SyncAuto, Prune: ptr(true), HealthTimeout: Duration{7 * time.Minute},
		Drift: Drift{SelfHeal: true, IgnoreHPAReplicas: ptr(false), Ignore: []DriftIgnore{{Kind: "ConfigMap", Name: "cache-*", Paths: []string{"/data/warm"}}}},
		Promotion: &Promotion{
			Strategy: StrategyBlueGreen, Routers: []string{"Service/healthcare-prod/db-query"}, AutoPromote: ptr(true),
			HealthTimeout: Duration{7 * time.Minute}, SmokeTimeout: Duration{5 * time.Minute}, RollbackWindow: Duration{30 * time.Minute},
		},
	}
	if diff := cmp.Diff(want, *e); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "empty", yaml: "  \n", want: []string{"configuration is empty"}},
		{name: "unknown field", yaml: "repo: {url: x}\nenviroments: [{name: dev}]\n", want: []string{`unknown field "enviroments"`}},
		{name: "unknown nested field", yaml: "repo: {url: x, brnch: main}\nenvironments: [{name: dev}]\n", want: []string{`unknown field "repo.brnch"`}},
		{name: "no repo, no environments", yaml: "listen: ':9090'\n", want: []string{"repo.url: required", "environments: at least one"}},
		{name: "bad duration", yaml: "repo: {url: x, pollInterval: soon}\nenvironments: [{name: dev}]\n", want: []string{`"soon"`}},
		{name: "poll too fast", yaml: "repo: {url: x, pollInterval: 10ms}\nenvironments: [{name: dev}]\n", want: []string{"repo.pollInterval: 10ms is too short"}},
		{name: "upper-case env", yaml: "repo: {url: x}\nenvironments: [{name: Pilot1}]\n", want: []string{`environments[Pilot1].name: "Pilot1"`}},
		{name: "duplicate env", yaml: "repo: {url: x}\nenvironments: [{name: dev}, {name: dev}]\n", want: []string{`duplicate environment "dev"`}},
		{name: "path escapes", yaml: "repo: {url: x}\nenvironments: [{name: dev, path: ../../etc}]\n", want: []string{`environments[dev].path: "../../etc" must be a path inside the repository`}},
		{name: "bad sync mode", yaml: "repo: {url: x}\nenvironments: [{name: dev, sync: sometimes}]\n", want: []string{`"sometimes": want auto or manual`}},
		{name: "ssh without known hosts", yaml: "repo: {url: 'ssh://git@host/r.git', auth: {sshKeyFile: /k}}\nenvironments: [{name: dev}]\n", want: []string{"repo.auth.knownHostsFile: required"}},
		{name: "token and ssh", yaml: "repo: {url: x, auth: {tokenFile: /t, sshKeyFile: /k, knownHostsFile: /h}}\nenvironments: [{name: dev}]\n", want: []string{"not both"}},
		{name: "ignore without paths", yaml: "repo: {url: x}\nenvironments: [{name: dev, drift: {ignore: [{kind: Deployment}]}}]\n", want: []string{"environments[dev].drift.ignore[0].paths: required"}},
		{name: "ignore path not a pointer", yaml: "repo: {url: x}\nenvironments: [{name: dev, drift: {ignore: [{paths: [spec.replicas]}]}}]\n", want: []string{`"spec.replicas" is not a JSON pointer`}},
		{name: "ignore bad glob", yaml: "repo: {url: x}\nenvironments: [{name: dev, drift: {ignore: [{name: 'api-[', paths: [/spec]}]}}]\n", want: []string{`environments[dev].drift.ignore[0].name: "api-["`}},
		{name: "unknown strategy", yaml: "repo: {url: x}\nenvironments: [{name: prod, promotion: {strategy: canary}}]\n", want: []string{`environments[prod].promotion.strategy: "canary": want blueGreen`}},
		{name: "promotion with manual sync", yaml: "repo: {url: x}\nenvironments: [{name: prod, sync: manual, promotion: {strategy: blueGreen}}]\n", want: []string{"manual sync and promotion exclude each other"}},
		{name: "bad router", yaml: "repo: {url: x}\nenvironments: [{name: prod, promotion: {strategy: blueGreen, routers: [db-query]}}]\n", want: []string{`environments[prod].promotion.routers[0]: "db-query": want Service/<namespace>/<name>`}},
		{name: "bad unknownKinds", yaml: "repo: {url: x}\npolicies: {unknownKinds: ignore}\nenvironments: [{name: dev}]\n", want: []string{`policies.unknownKinds: "ignore"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
