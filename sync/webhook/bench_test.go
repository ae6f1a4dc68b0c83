package webhook_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// BenchmarkPushToEvent measures, per commit, the time from the start of
// `git push` (over smart HTTP) to the poller's callback when a GitHub
// webhook sent right after the push triggers the fetch, as a git host does.
func BenchmarkPushToEvent(b *testing.B) {
	s := newStack(b)
	ctx := context.Background()
	var push, hookToEvent, total time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		head, err := s.repo.Commit(ctx, "bench", map[string]string{"bench.txt": strconv.Itoa(i)})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := s.repo.Push(ctx); err != nil {
			b.Fatal(err)
		}
		pushed := time.Now()
		if code, err := s.pushHook(); code != http.StatusAccepted {
			b.Fatalf("webhook status %d (%v)", code, err)
		}
		ev := s.next(b)
		got := time.Now()
		if ev.Err != nil || ev.Change.After.Head != head {
			b.Fatalf("event %+v, want head %s", ev, head)
		}
		push += pushed.Sub(start)
		hookToEvent += got.Sub(ev.TriggeredAt)
		total += got.Sub(start)
	}
	n := float64(i)
	b.ReportMetric(float64(push.Milliseconds())/n, "push-ms/op")
	b.ReportMetric(float64(hookToEvent.Microseconds())/1000/n, "webhook-to-event-ms/op")
	b.ReportMetric(float64(total.Microseconds())/1000/n, "push-to-event-ms/op")
}
