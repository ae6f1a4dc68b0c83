package promote

import (
	"slices"
	"time"
)

// Phase is where an environment's promotion stands.
type Phase string

// Phases, in the order a promotion goes through them.
const (
	// PhaseIdle: nothing was promoted yet.
	PhaseIdle Phase = "Idle"
	// PhaseDeploying: rendering, validating and applying the commit to the idle colour.
	PhaseDeploying Phase = "Deploying"
	// PhaseVerifying: waiting for the idle colour to become healthy.
	PhaseVerifying Phase = "Verifying"
	// PhaseSmoke: running the smoke Jobs against the preview Services.
	PhaseSmoke Phase = "Smoke"
	// PhaseAwaitingApproval: the idle colour passed its gates; Confirm switches to it.
	PhaseAwaitingApproval Phase = "AwaitingApproval"
	// PhaseSwitching: re-pointing the routers.
	PhaseSwitching Phase = "Switching"
	// PhaseLive: the last promotion or rollback is live.
	PhaseLive Phase = "Live"
	// PhaseAborted: the last promotion was abandoned; the live colour, if any, serves.
	PhaseAborted Phase = "Aborted"
)

// Phases lists every phase.
func Phases() []Phase {
	return []Phase{PhaseIdle, PhaseDeploying, PhaseVerifying, PhaseSmoke, PhaseAwaitingApproval, PhaseSwitching, PhaseLive, PhaseAborted}
}

// beforeSwitch reports whether a promotion in phase p has not touched the routers yet.
func (p Phase) beforeSwitch() bool {
	return p == PhaseDeploying || p == PhaseVerifying || p == PhaseSmoke
}

// Result is how a promotion ended.
type Result string

// Results.
const (
	ResultPromoted   Result = "promoted"
	ResultAborted    Result = "aborted"
	ResultSuperseded Result = "superseded"
	ResultRolledBack Result = "rolled-back"
)

// Release is a commit running in a colour.
type Release struct {
	Color  Color  `json:"color"`
	Commit string `json:"commit"`
	Tag    string `json:"tag,omitempty"`
}

// Operation kinds of an Attempt.
const (
	kindPromotion = "promotion"
	kindRollback  = "rollback"
)

// Attempt is the promotion in progress.
type Attempt struct {
	Request
	// Kind is "promotion" for a tag, "rollback" for the redeploy of the previous release.
	Kind    string    `json:"kind"`
	Color   Color     `json:"color"`
	Started time.Time `json:"started"`
	// AbortReason is set once the attempt is being abandoned, so that an abort interrupted by
	// a restart is finished with its own reason; AbortResult goes with it.
	AbortReason string `json:"abortReason,omitempty"`
	AbortResult Result `json:"abortResult,omitempty"`
}

// HistoryEntry is one finished promotion or rollback.
type HistoryEntry struct {
	Commit string    `json:"commit"`
	Tag    string    `json:"tag,omitempty"`
	Color  Color     `json:"color"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Result Result    `json:"result"`
	Reason string    `json:"reason,omitempty"`
}

// State is an environment's promotion state, as stored in its ConfigMap.
type State struct {
	Env   string `json:"env"`
	Phase Phase  `json:"phase"`
	// Live is the release the routers select; nil before the first promotion.
	Live *Release `json:"live,omitempty"`
	// Previous is the release that was live before; a rollback returns to it.
	Previous *Release `json:"previous,omitempty"`
	// RollbackUntil is when the previous colour is scaled to zero; zero once it is (or once a
	// promotion started to replace it), after which a rollback redeploys it.
	RollbackUntil time.Time `json:"rollbackUntil,omitzero"`
	// Current is the promotion in progress.
	Current *Attempt `json:"current,omitempty"`
	// LastRequest is the newest request taken up, whatever its outcome: it is not repeated.
	LastRequest *Request `json:"lastRequest,omitempty"`
	// Message says why the environment is in its phase (an abort's reason, what approval
	// waits for).
	Message string         `json:"message,omitempty"`
	History []HistoryEntry `json:"history,omitempty"`
}

// warm reports whether the previous colour still runs and may be switched back to at once.
func (s *State) warm(now time.Time) bool {
	return s.Previous != nil && !s.RollbackUntil.IsZero() && now.Before(s.RollbackUntil)
}

// handled reports whether req was taken up already or is what runs.
func (s *State) handled(req Request) bool {
	return s.LastRequest != nil && *s.LastRequest == req ||
		s.Live != nil && s.Live.Commit == req.Commit && s.Live.Tag == req.Tag
}

// record adds a history entry, newest first, keeping at most limit.
func (s *State) record(e HistoryEntry, limit int) {
	s.History = slices.Insert(s.History, 0, e)
	if len(s.History) > limit {
		s.History = s.History[:limit]
	}
}

// clone returns a deep copy, for readers outside the worker.
func (s State) clone() State {
	c := s
	if s.Live != nil {
		c.Live = new(*s.Live)
	}
	if s.Previous != nil {
		c.Previous = new(*s.Previous)
	}
	if s.Current != nil {
		c.Current = new(*s.Current)
	}
	if s.LastRequest != nil {
		c.LastRequest = new(*s.LastRequest)
	}
	c.History = slices.Clone(s.History)
	return c
}
