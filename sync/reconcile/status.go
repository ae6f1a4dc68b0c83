package reconcile

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-agent/gitops-agent/promote"
)

// Result is the outcome of one attempt to sync an environment to a commit.
type Result string

const (
	// ResultApplied: every object was applied (health is reported separately).
	ResultApplied Result = "Applied"
	// ResultFailed: applying, pruning or the health check failed.
	ResultFailed Result = "Failed"
	// ResultRenderFailed: the commit could not be rendered; nothing was applied or pruned.
	ResultRenderFailed Result = "RenderFailed"
	// ResultInvalid: a deny finding blocked the commit; nothing was applied or pruned.
	ResultInvalid Result = "Invalid"
	// ResultPending: the commit is valid and waits for `gitops-agent sync` (manual mode).
	ResultPending Result = "Pending"
)

// Health of an environment's objects after an apply.
const (
	HealthReady       = "Ready"
	HealthProgressing = "Progressing"
	HealthFailed      = "Failed"
)

// Status is the status of an Environment object, also served on GET /status.
type Status struct {
	Name string `json:"name"`
	// ObservedCommit is the newest commit of the followed branch the agent has seen.
	ObservedCommit string `json:"observedCommit,omitempty"`
	// Health of the objects of the last applied commit.
	Health        string `json:"health,omitempty"`
	HealthMessage string `json:"healthMessage,omitempty"`
	// LastApplied is the commit the environment runs: the last one applied successfully.
	LastApplied *CommitEvent `json:"lastApplied,omitempty"`
	// Pending is a newer commit that is not applied: waiting for a manual sync, or refused.
	Pending *CommitEvent `json:"pending,omitempty"`
	// LastAttempt is the most recent sync, successful or not.
	LastAttempt *Attempt `json:"lastAttempt,omitempty"`
	// History holds the most recent attempts that changed something, newest first.
	History []Attempt `json:"history,omitempty"`
	// ManagedObjects counts the objects in the environment's inventory.
	ManagedObjects int `json:"managedObjects"`
	// Drift summarises how the live objects differ from the applied commit; nil when they
	// do not.
	Drift *DriftStatus `json:"drift,omitempty"`
	// Promotion is the blue/green promotion state of a promoted environment: live and
	// previous release, the promotion in progress, and the history of promotions.
	Promotion *promote.State `json:"promotion,omitempty"`
	// SyncRequestHandled is the value of the sync-request annotation last acted upon.
	SyncRequestHandled string `json:"syncRequestHandled,omitempty"`
}

// CommitEvent names a commit and when something happened to it.
type CommitEvent struct {
	Commit      string      `json:"commit"`
	ShortCommit string      `json:"shortCommit"`
	Time        metav1.Time `json:"time"`
	// Reason says why a commit is pending.
	Reason string `json:"reason,omitempty"`
}

// Attempt is one sync of an environment to a commit.
type Attempt struct {
	Commit      string      `json:"commit"`
	ShortCommit string      `json:"shortCommit"`
	Trigger     string      `json:"trigger"`
	Result      Result      `json:"result"`
	Message     string      `json:"message,omitempty"`
	StartedAt   metav1.Time `json:"startedAt"`
	FinishedAt  metav1.Time `json:"finishedAt"`
	// Changes counts the change set's entries by action (created, configured, unchanged,
	// recreated, pruned, skipped, failed).
	Changes map[string]int `json:"changes,omitempty"`
	// Findings counts validation findings by severity (deny, warn, exempted).
	Findings map[string]int `json:"findings,omitempty"`
	// Violations lists the blocking findings, at most maxViolations of them.
	Violations []Violation `json:"violations,omitempty"`
	Health     string      `json:"health,omitempty"`
}

// Violation is a blocking finding as the status shows it.
type Violation struct {
	Rule    string `json:"rule"`
	Object  string `json:"object"`
	Source  string `json:"source,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// maxViolations bounds the findings kept in a status: the full list is one `check` away, and
// a status object must stay small.
const maxViolations = 20

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
