package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DirOptions tune a Dir. Start from DefaultDirOptions.
type DirOptions struct {
	// Debounce is the quiet time that ends a batch of edits: an editor
	// saving or `git checkout` writing many files yields one Event.
	Debounce time.Duration
	// MaxDelay bounds how long continuous edits can postpone an Event.
	MaxDelay time.Duration
}

// DefaultDirOptions debounce for 200ms and report at least every 2s.
func DefaultDirOptions() DirOptions {
	return DirOptions{Debounce: 200 * time.Millisecond, MaxDelay: 2 * time.Second}
}

// Dir watches a local working directory, recursively, for development:
// edits are reported as Events with Change.Paths. Paths under any .git
// directory are ignored, as are permission-only changes.
type Dir struct {
	root    string
	opts    DirOptions
	running atomic.Bool
}

// NewDir returns a Dir watching root, which must be a directory.
func NewDir(root string, opts DirOptions) (*Dir, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("directory source %s: %w", root, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("directory source: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("directory source %s: not a directory", abs)
	}
	if opts.Debounce <= 0 || opts.MaxDelay < opts.Debounce {
		return nil, fmt.Errorf("directory source %s: debounce %s must be positive and max delay %s at least as long", abs, opts.Debounce, opts.MaxDelay)
	}
	return &Dir{root: abs, opts: opts}, nil
}

// Root is the watched directory.
func (d *Dir) Root() string { return d.root }

// Run watches until ctx is done. Once every directory is watched it emits
// one Event with ReasonStart and an empty Change; then one ReasonFS Event per
// debounced batch of edits, and an Event with Err when the watcher reports an
// error. emit runs on the watching goroutine. Run returns nil when ctx is
// done, or an error when the watch cannot be set up or breaks.
func (d *Dir) Run(ctx context.Context, emit func(context.Context, Event)) error {
	if !d.running.CompareAndSwap(false, true) {
		return fmt.Errorf("directory source %s: already running", d.root)
	}
	defer d.running.Store(false)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("directory source %s: %w", d.root, err)
	}
	defer w.Close()
	if _, err := d.watchTree(w, d.root); err != nil {
		return fmt.Errorf("directory source %s: %w", d.root, err)
	}
	emit(ctx, Event{Reason: ReasonStart, TriggeredAt: time.Now()})

	b := batch{paths: map[string]struct{}{}}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return fmt.Errorf("directory source %s: watcher closed", d.root)
			}
			if d.handle(w, ev, &b) {
				timer.Reset(b.wait(time.Now(), d.opts))
			}
		case err, ok := <-w.Errors:
			if !ok {
				return fmt.Errorf("directory source %s: watcher closed", d.root)
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: say that anything may have changed.
				b.add(".", time.Now())
				timer.Reset(b.wait(time.Now(), d.opts))
				continue
			}
			emit(ctx, Event{Reason: ReasonFS, TriggeredAt: time.Now(), Err: fmt.Errorf("directory source %s: %w", d.root, err)})
		case <-timer.C:
			emit(ctx, Event{Reason: ReasonFS, TriggeredAt: b.first, Change: Change{Paths: slices.Sorted(maps.Keys(b.paths))}})
			b = batch{paths: map[string]struct{}{}}
		}
	}
}

// batch gathers the edits of one debounce window.
type batch struct {
	paths map[string]struct{}
	first time.Time
}

func (b *batch) add(rel string, now time.Time) {
	if len(b.paths) == 0 {
		b.first = now
	}
	b.paths[rel] = struct{}{}
}

// wait is how long to wait for quiet before emitting, bounded so the batch
// is reported within MaxDelay of its first edit.
func (b *batch) wait(now time.Time, opts DirOptions) time.Duration {
	return max(0, min(opts.Debounce, b.first.Add(opts.MaxDelay).Sub(now)))
}

// handle records one filesystem event and reports whether it counts.
func (d *Dir) handle(w *fsnotify.Watcher, ev fsnotify.Event, b *batch) bool {
	rel, ok := d.relative(ev.Name)
	if !ok || ev.Op == fsnotify.Chmod {
		return false
	}
	now := time.Now()
	b.add(rel, now)
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		// The directory's watch is gone with it (or points at the new
		// name); the new name, if any, arrives as a Create.
		if slices.Contains(w.WatchList(), ev.Name) {
			_ = w.Remove(ev.Name)
		}
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			// Files created in the new directory before its watch was
			// added produced no events: report them now.
			created, err := d.watchTree(w, ev.Name)
			if err != nil {
				// Gone already or unreadable: the batch still reports
				// the directory itself.
				return true
			}
			for _, p := range created {
				b.add(p, now)
			}
		}
	}
	return true
}

// watchTree watches dir and every directory below it except .git, and
// returns the relative paths of the files found.
func (d *Dir) watchTree(w *fsnotify.Watcher, dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if e.Name() == ".git" {
				return filepath.SkipDir
			}
			return w.Add(path)
		}
		if rel, ok := d.relative(path); ok {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	return files, nil
}

// relative returns path relative to the root, slash-separated, and false
// for paths inside a .git directory.
func (d *Dir) relative(path string) (string, bool) {
	rel, err := filepath.Rel(d.root, path)
	if err != nil {
		return "", false
	}
	rel = filepath.ToSlash(rel)
	if slices.Contains(strings.Split(rel, "/"), ".git") {
		return "", false
	}
	return rel, true
}
