package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitops-agent/gitops-agent/sync/gitserver"
	"github.com/gitops-agent/gitops-agent/sync/source"
	"github.com/gitops-agent/gitops-agent/sync/webhook"
)

// stack is the real chain: a git server, a Git source polled by a Poller,
// and the webhook Handler poking the Poller, all over HTTP.
type stack struct {
	repo    *gitserver.Repo
	hooks   string // the webhook server's base URL
	events  chan source.Event
	fetches atomic.Int64
	// hold, when set, is called at the start of every fetch.
	hold atomic.Pointer[func()]
}

// wrap counts the fetches of f and lets a test hold them.
func (s *stack) wrap(f source.Fetcher) source.Fetcher {
	return fetchFunc(func(ctx context.Context) (source.Change, error) {
		s.fetches.Add(1)
		if hold := s.hold.Load(); hold != nil {
			(*hold)()
		}
		return f.Fetch(ctx)
	})
}

type fetchFunc func(ctx context.Context) (source.Change, error)

func (f fetchFunc) Fetch(ctx context.Context) (source.Change, error) { return f(ctx) }

func newStack(tb testing.TB) *stack {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	root := tb.TempDir()
	gs, err := gitserver.New(ctx, root, gitserver.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	repo, err := gitserver.NewRepo(ctx, root, "app.git", tb.TempDir(), "testdata/site")
	if err != nil {
		tb.Fatal(err)
	}
	gitSrv := httptest.NewServer(gs)
	tb.Cleanup(gitSrv.Close)
	// Pushes go over HTTP too, as a developer's would.
	if err := repo.SetOrigin(ctx, gitSrv.URL+"/app.git"); err != nil {
		tb.Fatal(err)
	}
	g, err := source.NewGit(source.GitOptions{URL: gitSrv.URL + "/app.git", Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	s := &stack{repo: repo, events: make(chan source.Event, 100)}
	p, err := source.NewPoller(s.wrap(g), source.PollerOptions{Interval: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	h, err := webhook.New(p, webhook.Options{Secrets: secrets})
	if err != nil {
		tb.Fatal(err)
	}
	hookSrv := httptest.NewServer(h)
	tb.Cleanup(hookSrv.Close)
	s.hooks = hookSrv.URL
	done := make(chan error)
	go func() { done <- p.Run(ctx, func(_ context.Context, ev source.Event) { s.events <- ev }) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
	if ev := s.next(tb); ev.Err != nil || ev.Reason != source.ReasonStart {
		tb.Fatalf("start event = %+v", ev)
	}
	return s
}

func (s *stack) next(tb testing.TB) source.Event {
	tb.Helper()
	select {
	case ev := <-s.events:
		return ev
	case <-time.After(10 * time.Second):
		tb.Fatal("no event within 10s")
		return source.Event{}
	}
}

// pushHook sends a signed GitHub push webhook and returns the status.
func (s *stack) pushHook() (int, error) {
	code, _, err := do(s.hooks, request{path: "/hooks/github", body: payload, headers: map[string]string{
		"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + sign(secrets[webhook.GitHub], payload),
	}})
	return code, err
}

func TestWebhookTriggersFetchOfPushedCommit(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	head, err := s.repo.Commit(ctx, "deploy", map[string]string{"apps/web/configmap.yaml": "v: 2\n"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.repo.Push(ctx); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if code, err := s.pushHook(); code != http.StatusAccepted {
		t.Fatalf("webhook status = %d (%v), want 202", code, err)
	}
	ev := s.next(t)
	if ev.Err != nil || ev.Reason != "webhook:github" || ev.Change.After.Head != head {
		t.Errorf("event = %+v, want webhook:github reporting head %s", ev, head)
	}
	if ev.TriggeredAt.Before(sent) || time.Since(ev.TriggeredAt) > 10*time.Second {
		t.Errorf("TriggeredAt = %s, want when the webhook arrived (sent at %s)", ev.TriggeredAt, sent)
	}
}

func TestWebhookBurstCoalescesIntoOneFetch(t *testing.T) {
	s := newStack(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hold := func() { once.Do(func() { close(entered); <-release }) }
	s.hold.Store(&hold)
	before := s.fetches.Load()

	// The first webhook starts a fetch, which is held; 20 more arrive
	// while it runs.
	if code, err := s.pushHook(); code != http.StatusAccepted {
		t.Fatalf("webhook status = %d (%v), want 202", code, err)
	}
	<-entered
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			code, err := s.pushHook()
			if err != nil {
				t.Error(err)
			}
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusAccepted {
			t.Errorf("webhook in the burst: status %d, want 202", code)
		}
	}
	close(release)

	// Let the follow-up run and anything extra show up.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) && s.fetches.Load()-before < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := s.fetches.Load() - before; n != 2 {
		t.Errorf("21 webhooks caused %d fetches, want 2: the held one and one follow-up for the burst", n)
	}
}
