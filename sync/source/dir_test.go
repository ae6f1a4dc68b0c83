package source_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-agent/gitops-agent/sync/source"
)

func runDir(t *testing.T, root string) <-chan source.Event {
	t.Helper()
	d, err := source.NewDir(root, source.DefaultDirOptions())
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan source.Event, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx, func(_ context.Context, ev source.Event) { events <- ev }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if ev := nextEvent(t, events); ev.Reason != source.ReasonStart || !ev.Change.Empty() {
		t.Fatalf("first event = %+v, want the start event", ev)
	}
	return events
}

func TestDirDebouncesEdits(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "apps/web/configmap.yaml"), "a: 1\n")
	writeFile(t, filepath.Join(root, "old.yaml"), "old\n")
	writeFile(t, filepath.Join(root, ".git/HEAD"), "ref: refs/heads/main\n")

	tests := []struct {
		name      string
		edit      func(t *testing.T)
		wantPaths []string // nil: no event at all
	}{
		{
			name: "burst of edits, a new directory and a removal",
			edit: func(t *testing.T) {
				for i := range 5 {
					writeFile(t, filepath.Join(root, "apps/web/configmap.yaml"), string(rune('a'+i))+": 1\n")
					time.Sleep(20 * time.Millisecond)
				}
				writeFile(t, filepath.Join(root, "apps/api/deploy.yaml"), "kind: Deployment\n")
				removeAll(t, filepath.Join(root, "old.yaml"))
			},
			wantPaths: []string{"apps/api", "apps/api/deploy.yaml", "apps/web/configmap.yaml", "old.yaml"},
		},
		{
			name: "file in a directory created since the start",
			edit: func(t *testing.T) {
				writeFile(t, filepath.Join(root, "apps/api/service.yaml"), "kind: Service\n")
			},
			wantPaths: []string{"apps/api/service.yaml"},
		},
		{
			name: "edits under .git are ignored",
			edit: func(t *testing.T) {
				writeFile(t, filepath.Join(root, ".git/HEAD"), "ref: refs/heads/other\n")
				writeFile(t, filepath.Join(root, ".git/objects/ab/cdef"), "x")
			},
		},
		{
			name: "permission changes are ignored",
			edit: func(t *testing.T) {
				if err := os.Chmod(filepath.Join(root, "apps/api/service.yaml"), 0o640); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	events := runDir(t, root)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			tt.edit(t)
			if tt.wantPaths == nil {
				noEvent(t, events, 600*time.Millisecond)
				return
			}
			ev := nextEvent(t, events)
			if ev.Reason != source.ReasonFS || ev.Err != nil {
				t.Errorf("event = %+v, want an fs change", ev)
			}
			if diff := cmp.Diff(tt.wantPaths, ev.Change.Paths); diff != "" {
				t.Errorf("changed paths (-want +got):\n%s", diff)
			}
			if ev.TriggeredAt.Before(began) {
				t.Errorf("TriggeredAt %s is before the first edit at %s", ev.TriggeredAt, began)
			}
			// One event per batch: nothing follows.
			noEvent(t, events, 400*time.Millisecond)
		})
	}
}

func TestDirContinuousEditsReportWithinMaxDelay(t *testing.T) {
	root := t.TempDir()
	events := runDir(t, root)
	began := time.Now()
	stop := time.After(3 * time.Second)
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case ev := <-events:
			if d := time.Since(began); d > 2500*time.Millisecond {
				t.Errorf("first event after %s of continuous edits, want within the 2s max delay", d)
			}
			if diff := cmp.Diff([]string{"busy.txt"}, ev.Change.Paths); diff != "" {
				t.Errorf("changed paths (-want +got):\n%s", diff)
			}
			return
		case <-ticker.C:
			writeFile(t, filepath.Join(root, "busy.txt"), time.Now().String())
		case <-stop:
			t.Fatal("no event during 3s of continuous edits")
		}
	}
}

func TestNewDirRefusesNonDirectory(t *testing.T) {
	file := writeFile(t, filepath.Join(t.TempDir(), "file"), "x")
	if _, err := source.NewDir(file, source.DefaultDirOptions()); err == nil {
		t.Error("NewDir(file) succeeded, want an error")
	}
}
