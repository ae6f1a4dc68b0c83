package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitops-agent/gitops-agent/sync/source"
)

// Provider names a webhook sender; it is the last path element of its
// endpoint and the provider in the trigger reason "webhook:<provider>".
type Provider string

// Providers.
const (
	GitHub  Provider = "github"
	GitLab  Provider = "gitlab"
	Gitea   Provider = "gitea"
	Generic Provider = "generic"
)

// PathPrefix is where the endpoints live: PathPrefix + provider.
const PathPrefix = "/hooks/"

// DefaultMaxBodyBytes bounds a webhook body; push payloads of GitHub, GitLab
// and Gitea stay well below.
const DefaultMaxBodyBytes = 1 << 20

// Triggerer is asked to fetch now; *source.Poller is one.
type Triggerer interface {
	Trigger(reason string)
}

// Options configure a Handler.
type Options struct {
	// Secrets holds one secret per served provider; a provider without one
	// answers 404.
	Secrets map[Provider][]byte
	// MaxBodyBytes bounds the body; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// Registerer, if set, gets gitops_agent_webhook_requests_total{provider,code}.
	Registerer prometheus.Registerer
}

// Handler receives webhooks and triggers a fetch for valid push and tag
// events. See the package documentation for the protocol.
type Handler struct {
	trigger  Triggerer
	secrets  map[Provider][]byte
	maxBody  int64
	requests *prometheus.CounterVec
}

// New returns a Handler poking t. It refuses a configuration without any
// secret, with an empty secret or with an unknown provider.
func New(t Triggerer, opts Options) (*Handler, error) {
	if len(opts.Secrets) == 0 {
		return nil, errors.New("webhook: no provider has a secret; configure at least one or do not serve webhooks")
	}
	secrets := map[Provider][]byte{}
	for p, s := range opts.Secrets {
		if _, ok := verifiers[p]; !ok {
			return nil, fmt.Errorf("webhook: unknown provider %q; use one of %s", p, knownProviders())
		}
		if len(s) == 0 {
			return nil, fmt.Errorf("webhook: the %s secret is empty", p)
		}
		secrets[p] = slices.Clone(s)
	}
	if opts.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("webhook: max body size %d is negative", opts.MaxBodyBytes)
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{
		trigger: t,
		secrets: secrets,
		maxBody: opts.MaxBodyBytes,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitops_agent_webhook_requests_total",
			Help: "Webhook requests by provider and HTTP status code.",
		}, []string{"provider", "code"}),
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(h.requests); err != nil {
			return nil, fmt.Errorf("webhook: register metrics: %w", err)
		}
	}
	return h, nil
}

// ServeHTTP answers one webhook.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	label, code, msg := h.serve(w, r)
	h.requests.WithLabelValues(label, strconv.Itoa(code)).Inc()
	if code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	http.Error(w, msg, code)
}

// serve checks the request and triggers; it returns the provider label for
// metrics (bounded: unknown paths are "unknown"), the status and a message.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (string, int, string) {
	name, underPrefix := strings.CutPrefix(r.URL.Path, PathPrefix)
	p := Provider(name)
	v, known := verifiers[p]
	if !underPrefix || !known {
		return "unknown", http.StatusNotFound, "unknown webhook provider"
	}
	label := string(p)
	secret, ok := h.secrets[p]
	if !ok {
		return label, http.StatusNotFound, "unknown webhook provider"
	}
	if r.Method != http.MethodPost {
		return label, http.StatusMethodNotAllowed, "webhooks are POSTed"
	}
	proof := r.Header.Get(v.header)
	if proof == "" {
		return label, http.StatusUnauthorized, "missing " + v.header
	}
	if r.ContentLength > h.maxBody {
		return label, http.StatusRequestEntityTooLarge, "body too large"
	}
	valid, err := v.verify(secret, proof, http.MaxBytesReader(w, r.Body, h.maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return label, http.StatusRequestEntityTooLarge, "body too large"
	case err != nil:
		return label, http.StatusBadRequest, "cannot read body"
	case !valid:
		return label, http.StatusUnauthorized, "invalid " + v.header
	}
	if v.eventHeader == "" {
		h.trigger.Trigger(source.WebhookReason(label))
		return label, http.StatusAccepted, "fetch scheduled"
	}
	event := r.Header.Get(v.eventHeader)
	switch {
	case event == "":
		return label, http.StatusBadRequest, "missing " + v.eventHeader
	case event == v.ping:
		return label, http.StatusOK, "pong"
	case slices.Contains(v.triggers, event):
		h.trigger.Trigger(source.WebhookReason(label))
		return label, http.StatusAccepted, "fetch scheduled"
	}
	return label, http.StatusOK, "ignored: not a push or tag event"
}
