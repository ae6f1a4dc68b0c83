package source_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitops-agent/gitops-agent/sync/source"
)

// hookedFetcher wraps a real Fetcher, counting calls and running optional
// hooks around the numbered call (1 is the first).
type hookedFetcher struct {
	source.Fetcher
	calls  atomic.Int64
	mu     sync.Mutex
	before map[int64]func()
	after  map[int64]func()
}

func (f *hookedFetcher) Fetch(ctx context.Context) (source.Change, error) {
	n := f.calls.Add(1)
	f.mu.Lock()
	before, after := f.before[n], f.after[n]
	f.mu.Unlock()
	if before != nil {
		before()
	}
	ch, err := f.Fetcher.Fetch(ctx)
	if after != nil {
		after()
	}
	return ch, err
}

func (f *hookedFetcher) hook(n int64, before, after func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.before == nil {
		f.before, f.after = map[int64]func(){}, map[int64]func(){}
	}
	f.before[n], f.after[n] = before, after
}

// runPoller runs p until the test ends and returns its events.
func runPoller(t *testing.T, p *source.Poller) <-chan source.Event {
	t.Helper()
	events := make(chan source.Event, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx, func(_ context.Context, ev source.Event) { events <- ev }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return events
}

func nextEvent(t *testing.T, events <-chan source.Event) source.Event {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
		return source.Event{}
	}
}

func noEvent(t *testing.T, events <-chan source.Event, wait time.Duration) {
	t.Helper()
	select {
	case ev := <-events:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(wait):
	}
}

func newPoller(t *testing.T, f source.Fetcher, opts source.PollerOptions) *source.Poller {
	t.Helper()
	p, err := source.NewPoller(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// quiet polls once an hour, so only triggers fetch during a test.
var quiet = source.PollerOptions{Interval: time.Hour}

func TestPollerCoalescesTriggersDuringFetch(t *testing.T) {
	r := newRemote(t, remoteOptions{})
	f := &hookedFetcher{Fetcher: newGit(t, source.GitOptions{URL: r.URL})}
	entered, release := make(chan struct{}), make(chan struct{})
	// The second fetch waits until the burst is over; a commit pushed once
	// it has fetched can only be seen by the follow-up fetch.
	var pushed string
	var pushErr error
	f.hook(2, func() { close(entered); <-release }, func() {
		ctx := context.Background()
		if pushed, pushErr = r.repo.Commit(ctx, "after the second fetch", nil); pushErr == nil {
			pushErr = r.repo.Push(ctx)
		}
	})
	p := newPoller(t, f, quiet)
	events := runPoller(t, p)
	if ev := nextEvent(t, events); ev.Reason != source.ReasonStart || ev.Err != nil {
		t.Fatalf("first event = %+v, want the start fetch", ev)
	}

	p.Trigger(source.WebhookReason("github"))
	<-entered
	burstAt := time.Now()
	for range 50 {
		p.Trigger(source.WebhookReason("gitea"))
	}
	close(release)

	ev := nextEvent(t, events)
	if pushErr != nil {
		t.Fatal(pushErr)
	}
	if ev.Err != nil {
		t.Fatal(ev.Err)
	}
	got := struct{ Reason, Head string }{ev.Reason, ev.Change.After.Head}
	want := struct{ Reason, Head string }{source.WebhookReason("gitea"), pushed}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("follow-up event (-want +got):\n%s", diff)
	}
	if ev.TriggeredAt.Before(burstAt) || ev.TriggeredAt.After(burstAt.Add(time.Second)) {
		t.Errorf("TriggeredAt = %s, want the first trigger of the burst at %s", ev.TriggeredAt, burstAt)
	}
	noEvent(t, events, 300*time.Millisecond)
	// start + the held fetch + exactly one follow-up for 50 triggers.
	if n := f.calls.Load(); n != 3 {
		t.Errorf("%d fetches, want 3", n)
	}
}

func TestPollerPollsOnInterval(t *testing.T) {
	r := newRemote(t, remoteOptions{})
	g := newGit(t, source.GitOptions{URL: r.URL})
	events := runPoller(t, newPoller(t, g, source.PollerOptions{Interval: 50 * time.Millisecond, Jitter: 0.1}))
	start := nextEvent(t, events)
	if start.Reason != source.ReasonStart || start.Change.After.Head == "" {
		t.Fatalf("first event = %+v, want the start fetch with the head", start)
	}
	head := r.commitAndPush(t, map[string]string{"polled": "1"})
	ev := nextEvent(t, events)
	if ev.Reason != source.ReasonPoll || ev.Change.After.Head != head || ev.Err != nil {
		t.Errorf("event = %+v, want a poll reporting head %s", ev, head)
	}
}

func TestPollerStartEventCarriesStateOfUpToDateCache(t *testing.T) {
	r := newRemote(t, remoteOptions{})
	dir := t.TempDir()
	warm := newGit(t, source.GitOptions{URL: r.URL, Dir: dir})
	if _, err := warm.Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	events := runPoller(t, newPoller(t, newGit(t, source.GitOptions{URL: r.URL, Dir: dir}), quiet))
	ev := nextEvent(t, events)
	if !ev.Change.Empty() || ev.Change.After.Head != r.git(t, "rev-parse", "HEAD") {
		t.Errorf("start event = %+v, want an empty change whose After holds the head", ev)
	}
}

func TestPollerReportsErrorsUntilFirstSuccess(t *testing.T) {
	r := newRemote(t, remoteOptions{})
	dir := t.TempDir()
	if _, err := newGit(t, source.GitOptions{URL: r.URL, Dir: dir}).Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The same cache, followed on a branch that does not exist yet.
	p := newPoller(t, newGit(t, source.GitOptions{URL: r.URL, Dir: dir, Branch: "release"}), quiet)
	events := runPoller(t, p)
	if ev := nextEvent(t, events); ev.Err == nil {
		t.Fatalf("start event = %+v, want an error", ev)
	}
	p.Trigger(source.WebhookReason("generic"))
	if ev := nextEvent(t, events); ev.Err == nil {
		t.Fatalf("second event = %+v, want the error again", ev)
	}
	r.git(t, "branch", "release")
	r.git(t, "push", "--quiet", "origin", "release")
	p.Trigger(source.WebhookReason("generic"))
	ev := nextEvent(t, events)
	if ev.Err != nil || ev.Change.After.Head == "" {
		t.Errorf("event after the branch appeared = %+v, want the state", ev)
	}
}

func TestPollerMetrics(t *testing.T) {
	r := newRemote(t, remoteOptions{})
	reg := prometheus.NewRegistry()
	m, err := source.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := newGit(t, source.GitOptions{URL: r.server.URL + "/absent.git", Dir: filepath.Join(dir, "bad")})
	good := newGit(t, source.GitOptions{URL: r.URL, Dir: filepath.Join(dir, "good")})
	for _, f := range []source.Fetcher{bad, good} {
		p := newPoller(t, f, source.PollerOptions{Interval: time.Hour, Observer: m})
		events := runPoller(t, p)
		nextEvent(t, events)
		p.Trigger(source.ReasonPoll)
		if f == bad {
			nextEvent(t, events)
		}
	}
	// The good poller's unchanged fetch is not an event; wait for it.
	deadline := time.Now().Add(5 * time.Second)
	var got map[string]uint64
	want := map[string]uint64{"error": 2, "changed": 1, "unchanged": 1, "errors_total": 2}
	for time.Now().Before(deadline) {
		got = fetchMetrics(t, reg)
		if cmp.Equal(want, got) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fetch metrics (-want +got):\n%s", diff)
	}
}

// fetchMetrics returns the fetch histogram's counts by result, and the error
// counter as "errors_total".
func fetchMetrics(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "gitops_agent_git_fetch_duration_seconds":
				out[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
			case "gitops_agent_git_fetch_errors_total":
				out["errors_total"] = uint64(m.GetCounter().GetValue())
			}
		}
	}
	return out
}

func TestNewPollerRefusesBadOptions(t *testing.T) {
	for _, opts := range []source.PollerOptions{{}, {Interval: time.Second, Jitter: 1}, {Interval: time.Second, Jitter: -0.1}} {
		if _, err := source.NewPoller(nil, opts); err == nil {
			t.Errorf("NewPoller(%+v) succeeded, want an error", opts)
		}
	}
}
