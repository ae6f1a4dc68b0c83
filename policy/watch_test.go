package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

func rule(msg string) string {
	return "package main\n\ndeny contains \"" + msg + "\" if input.kind == \"ConfigMap\"\n"
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// messages evaluates set on a ConfigMap and returns the messages, sorted.
func messages(t *testing.T, set *RegoSet) string {
	t.Helper()
	obj := render.Object{Obj: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x", "namespace": "y"},
	}}}
	found, err := set.Evaluate(context.Background(), "test", []render.Object{obj})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, f := range found {
		msgs = append(msgs, f.Message)
	}
	return strings.Join(msgs, ",")
}

// TestRegoWatcher drives the watcher with real files: a change takes effect, a broken file
// keeps the previous set and reports file and row, a fix takes effect, and new folders and
// editors that replace files by renaming are followed.
func TestRegoWatcher(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.rego"), rule("one"))

	reloads := make(chan RegoReload, 16)
	opts := DefaultRegoWatchOptions()
	opts.Debounce = 50 * time.Millisecond
	opts.Retry = 50 * time.Millisecond
	opts.OnReload = func(r RegoReload) { reloads <- r }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := NewRegoWatcher(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	if got := messages(t, w.Current()); got != "one" {
		t.Fatalf("initial set: got %q, want %q", got, "one")
	}

	next := func(t *testing.T) RegoReload {
		t.Helper()
		select {
		case r := <-reloads:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no reload within 10s")
			return RegoReload{}
		}
	}

	steps := []struct {
		name    string
		change  func(t *testing.T)
		wantErr string // substring of the reported error; "" for a successful reload
		want    string // messages of the set in force afterwards
	}{
		{
			name:   "edit",
			change: func(t *testing.T) { writeFile(t, filepath.Join(dir, "a.rego"), rule("two")) },
			want:   "two",
		},
		{
			name: "broken file keeps the previous set",
			change: func(t *testing.T) {
				writeFile(t, filepath.Join(dir, "a.rego"), "package main\n\ndeny contains msg if {\n\tmsg := \n}\n")
			},
			wantErr: filepath.Join(dir, "a.rego") + ":5",
			want:    "two",
		},
		{
			name:   "fix",
			change: func(t *testing.T) { writeFile(t, filepath.Join(dir, "a.rego"), rule("three")) },
			want:   "three",
		},
		{
			name: "new subfolder",
			change: func(t *testing.T) {
				writeFile(t, filepath.Join(dir, "team", "nested", "b.rego"), strings.Replace(rule("four"), "deny", "warn", 1))
			},
			want: "three,four",
		},
		{
			name: "editor writes a temporary file and renames it over the original",
			change: func(t *testing.T) {
				tmp := filepath.Join(dir, ".a.rego.swp")
				writeFile(t, tmp, rule("five"))
				if err := os.Rename(tmp, filepath.Join(dir, "a.rego")); err != nil {
					t.Fatal(err)
				}
			},
			want: "five,four",
		},
		{
			name: "removed file",
			change: func(t *testing.T) {
				if err := os.RemoveAll(filepath.Join(dir, "team")); err != nil {
					t.Fatal(err)
				}
			},
			want: "five",
		},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.change(t)
			r := next(t)
			switch {
			case step.wantErr == "" && r.Err != nil:
				t.Fatalf("reload failed: %v", r.Err)
			case step.wantErr != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), step.wantErr)):
				t.Fatalf("reload error = %v, want one naming %s", r.Err, step.wantErr)
			case step.wantErr != "":
				var ce *RegoCompileError
				if !errors.As(r.Err, &ce) {
					t.Fatalf("reload error %T is not a *RegoCompileError", r.Err)
				}
			case r.Set != w.Current():
				t.Fatal("the reported set is not the current one")
			}
			if got := messages(t, w.Current()); got != step.want {
				t.Fatalf("after the change: got %q, want %q", got, step.want)
			}
		})
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestRegoWatcherRefusesABrokenStart(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.rego"), "package main\n\ndeny contains if\n")
	_, err := NewRegoWatcher(context.Background(), dir, DefaultRegoWatchOptions())
	if err == nil || !strings.Contains(err.Error(), "a.rego:3") {
		t.Fatalf("got %v, want an error naming a.rego:3", err)
	}
}

// TestRegoWatcherFolderReplaced removes the watched folder, which keeps the loaded set and is
// reported, then puts it back, as a checkout that replaces the folder does.
func TestRegoWatcherFolderReplaced(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "policies")
	writeFile(t, filepath.Join(dir, "a.rego"), rule("one"))
	reloads := make(chan RegoReload, 16)
	opts := DefaultRegoWatchOptions()
	opts.Debounce = 50 * time.Millisecond
	opts.Retry = 50 * time.Millisecond
	opts.OnReload = func(r RegoReload) { reloads <- r }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := NewRegoWatcher(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	go w.Run(ctx)
	next := func() RegoReload {
		t.Helper()
		select {
		case r := <-reloads:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no reload within 10s")
			return RegoReload{}
		}
	}

	if err := os.Rename(dir, filepath.Join(parent, "old")); err != nil {
		t.Fatal(err)
	}
	if r := next(); r.Err == nil || !strings.Contains(r.Err.Error(), "keeping the policies loaded before") {
		t.Fatalf("got %+v, want the missing folder reported", r)
	}
	if got := messages(t, w.Current()); got != "one" {
		t.Fatalf("while the folder is gone: got %q, want %q", got, "one")
	}
	// The new folder is prepared beside and renamed into place, as a checkout does, so that the
	// watcher never sees it empty.
	writeFile(t, filepath.Join(parent, "new", "a.rego"), rule("two"))
	if err := os.Rename(filepath.Join(parent, "new"), dir); err != nil {
		t.Fatal(err)
	}
	if r := next(); r.Err != nil {
		t.Fatalf("after the folder came back: %v", r.Err)
	}
	if got := messages(t, w.Current()); got != "two" {
		t.Fatalf("after the folder came back: got %q, want %q", got, "two")
	}
	writeFile(t, filepath.Join(dir, "a.rego"), rule("three"))
	if r := next(); r.Err != nil || messages(t, w.Current()) != "three" {
		t.Fatalf("the new folder is not watched: %+v", r)
	}
}
