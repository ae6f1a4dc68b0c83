package source

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Fetcher brings a source up to date and says what changed; *Git is one.
type Fetcher interface {
	Fetch(ctx context.Context) (Change, error)
}

// FetchObserver is told about every fetch; *Metrics is one.
type FetchObserver interface {
	ObserveFetch(d time.Duration, ch Change, err error)
}

// PollerOptions tune a Poller. Start from DefaultPollerOptions.
type PollerOptions struct {
	// Interval between periodic fetches.
	Interval time.Duration
	// Jitter spreads each interval by ±Jitter (a fraction), so many agents
	// polling one server do not fetch in lock step.
	Jitter float64
	// Observer, if set, is told the duration and outcome of every fetch.
	Observer FetchObserver
}

// DefaultPollerOptions polls every 60s ±10%.
func DefaultPollerOptions() PollerOptions {
	return PollerOptions{Interval: 60 * time.Second, Jitter: 0.1}
}

// Poller fetches a source periodically and when triggered (by a webhook).
// Triggers that arrive while a fetch runs coalesce into exactly one
// follow-up fetch, so a burst of webhooks costs at most two fetches.
type Poller struct {
	fetcher Fetcher
	opts    PollerOptions
	// wake holds at most one token: a trigger is waiting in pending.
	wake    chan struct{}
	mu      sync.Mutex
	pending *trigger // the earliest trigger not yet served; guarded by mu
	running atomic.Bool
}

type trigger struct {
	reason string
	at     time.Time
}

// NewPoller returns a Poller for f.
func NewPoller(f Fetcher, opts PollerOptions) (*Poller, error) {
	if opts.Interval <= 0 {
		return nil, fmt.Errorf("poller: interval %s must be positive", opts.Interval)
	}
	if opts.Jitter < 0 || opts.Jitter >= 1 {
		return nil, fmt.Errorf("poller: jitter %g must be in [0, 1)", opts.Jitter)
	}
	return &Poller{fetcher: f, opts: opts, wake: make(chan struct{}, 1)}, nil
}

// Trigger asks for a fetch as soon as possible; reason is reported in the
// Event (WebhookReason(provider) for webhooks). It never blocks. When several
// triggers wait, the fetch reports the earliest one's reason and time.
func (p *Poller) Trigger(reason string) {
	now := time.Now()
	p.mu.Lock()
	if p.pending == nil {
		p.pending = &trigger{reason: reason, at: now}
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// take returns and clears the waiting trigger: the fetch about to start
// serves it, since it will see everything pushed before now.
func (p *Poller) take() (trigger, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.pending
	p.pending = nil
	if t == nil {
		return trigger{}, false
	}
	return *t, true
}

// Run fetches at once (ReasonStart), then on every interval and trigger,
// until ctx is done. emit receives every fetch that changed something or
// failed, and every fetch until one has succeeded, so the first successful
// Event always carries the full current state in Change.After. emit runs on
// the poller's goroutine: it should hand the event over and return; triggers
// arriving meanwhile coalesce. Run returns nil when ctx is done.
func (p *Poller) Run(ctx context.Context, emit func(context.Context, Event)) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("poller: already running")
	}
	defer p.running.Store(false)

	start, ok := p.take()
	if !ok {
		start = trigger{at: time.Now()}
	}
	start.reason = ReasonStart
	delivered := p.fetch(ctx, start, true, emit)

	timer := time.NewTimer(p.nextInterval())
	defer timer.Stop()
	for {
		var t trigger
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
			if t, ok = p.take(); !ok {
				// Already served by a fetch that started after it arrived.
				continue
			}
		case at := <-timer.C:
			if t, ok = p.take(); !ok {
				t = trigger{reason: ReasonPoll, at: at}
			}
		}
		if p.fetch(ctx, t, !delivered, emit) {
			delivered = true
		}
		timer.Reset(p.nextInterval())
	}
}

// fetch runs one fetch and reports it; it returns whether it succeeded.
func (p *Poller) fetch(ctx context.Context, t trigger, always bool, emit func(context.Context, Event)) bool {
	begin := time.Now()
	ch, err := p.fetcher.Fetch(ctx)
	if err != nil && ctx.Err() != nil {
		// Shutting down: a cancelled fetch is not a failure to report.
		return false
	}
	if p.opts.Observer != nil {
		p.opts.Observer.ObserveFetch(time.Since(begin), ch, err)
	}
	if always || err != nil || !ch.Empty() {
		emit(ctx, Event{Reason: t.reason, TriggeredAt: t.at, Change: ch, Err: err})
	}
	return err == nil
}

func (p *Poller) nextInterval() time.Duration {
	spread := 1 + p.opts.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(p.opts.Interval) * spread)
}
