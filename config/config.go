// Package config owns the agent's configuration file: its schema, defaults and validation.
// The file is YAML (mounted from a ConfigMap in a cluster); unknown fields are rejected so that
// a misspelt setting never silently falls back to a default.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Config is the whole agent configuration.
type Config struct {
	// Repo is the deployments repository the agent follows.
	Repo Repo `json:"repo"`
	// Environments the agent manages; at least one.
	Environments []Environment `json:"environments"`
	// Policies configures validation.
	Policies Policies `json:"policies,omitempty"`
	// Webhooks configures the push webhook receiver; providers without a secret are off.
	Webhooks Webhooks `json:"webhooks,omitempty"`
	// Listen is the address of the HTTP server for webhooks, /status, /metrics, /healthz and
	// /readyz. Default ":8080".
	Listen string `json:"listen,omitempty"`
	// Namespace holds the agent's inventories, status objects and leader lease. Default
	// "gitops-agent".
	Namespace string `json:"namespace,omitempty"`
	// LeaderElection lets several replicas run with one active. Default on.
	LeaderElection LeaderElection `json:"leaderElection,omitempty"`
	// HistoryLimit is how many applied commits each environment's status keeps. Default 20.
	HistoryLimit int `json:"historyLimit,omitempty"`
}

// Repo describes the git repository and how to reach it.
type Repo struct {
	// URL of the repository (https://, ssh:// or git@host:path), or a local path for development.
	URL string `json:"url"`
	// Branch to follow. Default "main".
	Branch string `json:"branch,omitempty"`
	// Auth for the remote; empty for public or local repositories.
	Auth RepoAuth `json:"auth,omitempty"`
	// PollInterval between fetches (jittered by ±10%). Default 60s. Webhooks trigger fetches
	// in between.
	PollInterval Duration `json:"pollInterval,omitempty"`
	// CacheDir holds the bare clone. Default "/var/cache/gitops-agent".
	CacheDir string `json:"cacheDir,omitempty"`
}

// RepoAuth holds file paths to credentials, never the credentials themselves, so the
// configuration can live in a ConfigMap and the secrets in Secrets.
type RepoAuth struct {
	// TokenFile holds an HTTPS access token (sent as basic-auth password).
	TokenFile string `json:"tokenFile,omitempty"`
	// Username for token auth. Default "git".
	Username string `json:"username,omitempty"`
	// SSHKeyFile is a private key for ssh:// URLs; requires KnownHostsFile.
	SSHKeyFile string `json:"sshKeyFile,omitempty"`
	// KnownHostsFile pins the SSH host keys.
	KnownHostsFile string `json:"knownHostsFile,omitempty"`
}

// Sync modes.
const (
	SyncAuto   = "auto"
	SyncManual = "manual"
)

// Environment is one overlay of the repository and where it is applied.
type Environment struct {
	// Name of the environment, a DNS-1123 label (it names inventory and status objects).
	Name string `json:"name"`
	// Path of the overlay in the repository. Default "environments/<name>".
	Path string `json:"path,omitempty"`
	// Sync is "auto" (apply each new valid commit) or "manual" (report it as pending until
	// `gitops-agent sync <env>`). Default "auto".
	Sync string `json:"sync,omitempty"`
	// Prune deletes objects that left git. Default true.
	Prune *bool `json:"prune,omitempty"`
	// HealthTimeout bounds the wait for applied objects to become healthy. Default 5m.
	HealthTimeout Duration `json:"healthTimeout,omitempty"`
	// Cluster is where the environment is applied. Default: the agent's own cluster.
	Cluster Cluster `json:"cluster,omitempty"`
	// Drift configures drift detection and self-heal.
	Drift Drift `json:"drift,omitempty"`
	// Promotion makes the environment follow promotion tags instead of the branch.
	Promotion *Promotion `json:"promotion,omitempty"`
}

// Drift configures how live objects are compared with git.
type Drift struct {
	// SelfHeal re-applies drifted objects. Default false: drift is reported only.
	SelfHeal bool `json:"selfHeal,omitempty"`
	// IgnoreHPAReplicas ignores /spec/replicas of workloads that a HorizontalPodAutoscaler of
	// the environment scales. Default true.
	IgnoreHPAReplicas *bool `json:"ignoreHPAReplicas,omitempty"`
	// Ignore lists fields whose differences are not drift.
	Ignore []DriftIgnore `json:"ignore,omitempty"`
}

// DriftIgnore ignores JSON-pointer paths of the objects it selects.
type DriftIgnore struct {
	// Group, Kind, Namespace and Name select objects; empty selects any. Name may be a glob
	// ("api-*").
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Paths are JSON pointers such as "/spec/replicas" or "/metadata/annotations/owner".
	Paths []string `json:"paths"`
}

// Promotion strategies.
const StrategyBlueGreen = "blueGreen"

// Promotion configures blue/green promotion by commit tags: a tag "<env>/<anything>", or a tag
// named after the environment, requests promotion of its commit.
type Promotion struct {
	// Strategy is "blueGreen".
	Strategy string `json:"strategy"`
	// Routers are the Services ("Service/<namespace>/<name>") that select the live colour, in
	// addition to those annotated promote.gitops-agent.io/router: "true".
	Routers []string `json:"routers,omitempty"`
	// AutoPromote switches traffic once the gates pass. Default true; false waits for
	// `gitops-agent promote <env> --confirm` with the preview running.
	AutoPromote *bool `json:"autoPromote,omitempty"`
	// HealthTimeout bounds the wait for the new colour to become healthy. Default: the
	// environment's healthTimeout.
	HealthTimeout Duration `json:"healthTimeout,omitempty"`
	// SmokeTimeout bounds each smoke Job. Default 5m.
	SmokeTimeout Duration `json:"smokeTimeout,omitempty"`
	// RollbackWindow keeps the previous colour running for an instant rollback. Default 30m.
	RollbackWindow Duration `json:"rollbackWindow,omitempty"`
}

// Cluster selects a target cluster through a kubeconfig.
type Cluster struct {
	Kubeconfig string `json:"kubeconfig,omitempty"`
	Context    string `json:"context,omitempty"`
}

// Policies configures validation of rendered objects.
type Policies struct {
	// Dir holds Rego policies, reloaded on change. Default: the policies built into the agent.
	Dir string `json:"dir,omitempty"`
	// CRDDirs hold CRD manifests used to validate custom resources whose CRDs are not part of
	// the render.
	CRDDirs []string `json:"crdDirs,omitempty"`
	// UnknownKinds is the severity of a kind with no schema: "deny" (default) or "warn".
	UnknownKinds string `json:"unknownKinds,omitempty"`
}

// Webhooks configures the receiver. Each provider is on only when it has a secret.
type Webhooks struct {
	GitHub  WebhookSecret `json:"github,omitempty"`
	GitLab  WebhookSecret `json:"gitlab,omitempty"`
	Gitea   WebhookSecret `json:"gitea,omitempty"`
	Generic WebhookSecret `json:"generic,omitempty"`
}

// WebhookSecret points at the file holding a provider's shared secret.
type WebhookSecret struct {
	SecretFile string `json:"secretFile,omitempty"`
}

// LeaderElection configures the Lease that keeps replicas from applying at once.
type LeaderElection struct {
	Enabled *bool `json:"enabled,omitempty"`
	// LeaseName default "gitops-agent".
	LeaseName string `json:"leaseName,omitempty"`
}

// Duration is a time.Duration written as "90s" or "5m" in YAML.
type Duration struct{ time.Duration }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"30s\" or \"5m\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as \"30s\" or \"5m\", got %q", s)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// Load reads, defaults and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse reads, defaults and validates a configuration document.
func Parse(data []byte) (*Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("configuration is empty: it needs at least repo.url and one environment")
	}
	asJSON, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	var cfg Config
	// sigs.k8s.io/json names the full path of an unknown field, which encoding/json does not.
	strictErrs, err := kjson.UnmarshalStrict(asJSON, &cfg)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	if len(strictErrs) > 0 {
		return nil, fmt.Errorf("invalid configuration:\n  %w", joinIndented(strictErrs))
	}
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (c *Config) setDefaults() {
	if c.Repo.Branch == "" {
		c.Repo.Branch = "main"
	}
	if c.Repo.PollInterval.Duration == 0 {
		c.Repo.PollInterval.Duration = time.Minute
	}
	if c.Repo.CacheDir == "" {
		c.Repo.CacheDir = "/var/cache/gitops-agent"
	}
	if c.Repo.Auth.TokenFile != "" && c.Repo.Auth.Username == "" {
		c.Repo.Auth.Username = "git"
	}
	if c.Listen == "" {
		c.Listen = ":8080"
	}
	if c.Namespace == "" {
		c.Namespace = "gitops-agent"
	}
	if c.LeaderElection.Enabled == nil {
		c.LeaderElection.Enabled = ptr(true)
	}
	if c.LeaderElection.LeaseName == "" {
		c.LeaderElection.LeaseName = "gitops-agent"
	}
	if c.HistoryLimit == 0 {
		c.HistoryLimit = 20
	}
	if c.Policies.UnknownKinds == "" {
		c.Policies.UnknownKinds = "deny"
	}
	for i := range c.Environments {
		e := &c.Environments[i]
		if e.Path == "" {
			e.Path = "environments/" + e.Name
		}
		if e.Sync == "" {
			e.Sync = SyncAuto
		}
		if e.Prune == nil {
			e.Prune = ptr(true)
		}
		if e.HealthTimeout.Duration == 0 {
			e.HealthTimeout.Duration = 5 * time.Minute
		}
		if e.Drift.IgnoreHPAReplicas == nil {
			e.Drift.IgnoreHPAReplicas = ptr(true)
		}
		if p := e.Promotion; p != nil {
			if p.AutoPromote == nil {
				p.AutoPromote = ptr(true)
			}
			if p.HealthTimeout.Duration == 0 {
				p.HealthTimeout = e.HealthTimeout
			}
			if p.SmokeTimeout.Duration == 0 {
				p.SmokeTimeout.Duration = 5 * time.Minute
			}
			if p.RollbackWindow.Duration == 0 {
				p.RollbackWindow.Duration = 30 * time.Minute
			}
		}
	}
}

func (c *Config) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Repo.URL == "" {
		bad("repo.url", "required: the deployments repository to follow")
	}
	if c.Repo.PollInterval.Duration < time.Second {
		bad("repo.pollInterval", "%s is too short: use at least 1s (webhooks make syncs immediate)", c.Repo.PollInterval.Duration)
	}
	if c.Repo.Auth.TokenFile != "" && c.Repo.Auth.SSHKeyFile != "" {
		bad("repo.auth", "set tokenFile (HTTPS) or sshKeyFile (SSH), not both")
	}
	if c.Repo.Auth.SSHKeyFile != "" && c.Repo.Auth.KnownHostsFile == "" {
		bad("repo.auth.knownHostsFile", "required with sshKeyFile: without pinned host keys the agent could be fed another repository")
	}
	if u := c.Policies.UnknownKinds; u != "deny" && u != "warn" {
		bad("policies.unknownKinds", "%q: want deny or warn", u)
	}
	for _, msg := range validation.IsDNS1123Label(c.Namespace) {
		bad("namespace", "%q: %s", c.Namespace, msg)
	}
	if c.HistoryLimit < 0 {
		bad("historyLimit", "must not be negative")
	}
	if len(c.Environments) == 0 {
		bad("environments", "at least one environment is required")
	}
	seen := map[string]bool{}
	for i, e := range c.Environments {
		field := fmt.Sprintf("environments[%d]", i)
		if e.Name != "" {
			field = fmt.Sprintf("environments[%s]", e.Name)
		}
		for _, msg := range validation.IsDNS1123Label(e.Name) {
			bad(field+".name", "%q: %s", e.Name, msg)
		}
		if seen[e.Name] {
			bad(field+".name", "duplicate environment %q", e.Name)
		}
		seen[e.Name] = true
		if clean := path.Clean(e.Path); path.IsAbs(e.Path) || clean == ".." || strings.HasPrefix(clean, "../") {
			bad(field+".path", "%q must be a path inside the repository", e.Path)
		}
		if e.Sync != SyncAuto && e.Sync != SyncManual {
			bad(field+".sync", "%q: want auto or manual", e.Sync)
		}
		if e.HealthTimeout.Duration < 0 {
			bad(field+".healthTimeout", "must not be negative")
		}
		if e.Cluster.Context != "" && e.Cluster.Kubeconfig == "" {
			bad(field+".cluster.context", "needs cluster.kubeconfig")
		}
		for j, ig := range e.Drift.Ignore {
			f := fmt.Sprintf("%s.drift.ignore[%d]", field, j)
			if len(ig.Paths) == 0 {
				bad(f+".paths", "required: the JSON pointers (\"/spec/replicas\") to ignore")
			}
			for _, p := range ig.Paths {
				if !strings.HasPrefix(p, "/") {
					bad(f+".paths", "%q is not a JSON pointer: write it as \"/spec/replicas\"", p)
				}
			}
			if _, err := path.Match(ig.Name, ""); err != nil {
				bad(f+".name", "%q is not a valid glob: %v", ig.Name, err)
			}
		}
		if p := e.Promotion; p != nil {
			if p.Strategy != StrategyBlueGreen {
				bad(field+".promotion.strategy", "%q: want %s", p.Strategy, StrategyBlueGreen)
			}
			if e.Sync == SyncManual {
				bad(field+".sync", "manual sync and promotion exclude each other: a promoted environment follows its tags (use promotion.autoPromote: false to confirm each switch)")
			}
			for j, r := range p.Routers {
				if parts := strings.Split(r, "/"); len(parts) != 3 || parts[0] != "Service" || parts[1] == "" || parts[2] == "" {
					bad(fmt.Sprintf("%s.promotion.routers[%d]", field, j), "%q: want Service/<namespace>/<name>", r)
				}
			}
			for _, d := range []struct {
				name string
				d    Duration
			}{{"healthTimeout", p.HealthTimeout}, {"smokeTimeout", p.SmokeTimeout}, {"rollbackWindow", p.RollbackWindow}} {
				if d.d.Duration < 0 {
					bad(field+".promotion."+d.name, "must not be negative")
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration:\n  %w", joinIndented(errs))
	}
	return nil
}

// Environment returns the named environment.
func (c *Config) Environment(name string) (*Environment, bool) {
	for i := range c.Environments {
		if c.Environments[i].Name == name {
			return &c.Environments[i], true
		}
	}
	return nil, false
}

func joinIndented(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "\n  "))
}

func ptr[T any](v T) *T { return &v }
