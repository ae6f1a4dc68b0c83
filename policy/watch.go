package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// RegoWatchOptions configure a RegoWatcher.
type RegoWatchOptions struct {
	Rego RegoOptions
	// Debounce is how long the folder must stay quiet after a change before it is recompiled,
	// so that an editor's burst of writes and renames, or a checkout, compiles once.
	Debounce time.Duration
	// Retry is how often a watcher whose folder has disappeared looks for it again.
	Retry time.Duration
	// OnReload, when set, is called from Run after each recompilation caused by a change: with
	// the new set, or with the error (a *RegoCompileError names file and row) that kept the
	// previous set in force. The caller logs it.
	OnReload func(RegoReload)
}

// DefaultRegoWatchOptions debounce changes for 200ms and look for a vanished folder every
// second.
func DefaultRegoWatchOptions() RegoWatchOptions {
	return RegoWatchOptions{Rego: DefaultRegoOptions(), Debounce: 200 * time.Millisecond, Retry: time.Second}
}

// RegoReload is the outcome of one recompilation.
type RegoReload struct {
	Set *RegoSet // the set now in force; nil when Err is set
	Err error    // why the folder did not compile; the previous set stays in force
}

// RegoWatcher keeps a policy folder compiled: it recompiles when a file under it changes and
// swaps the new set in only when it compiles.
type RegoWatcher struct {
	dir     string
	opts    RegoWatchOptions
	fsw     *fsnotify.Watcher
	current atomic.Pointer[RegoSet]
	digest  string // of the sources last compiled or tried; only Run touches it
}

// NewRegoWatcher compiles the policies under dir and starts watching it and its subfolders. It
// fails when the folder does not compile: there is no previous set to fall back on. Call Run
// to process changes; it releases the watch when its context ends (Close does when Run is never
// called).
func NewRegoWatcher(ctx context.Context, dir string, opts RegoWatchOptions) (*RegoWatcher, error) {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultRegoWatchOptions().Debounce
	}
	if opts.Retry <= 0 {
		opts.Retry = DefaultRegoWatchOptions().Retry
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch policies %s: %w", dir, err)
	}
	w := &RegoWatcher{dir: dir, opts: opts, fsw: fsw}
	if err := w.watchTree(dir); err != nil {
		fsw.Close()
		return nil, err
	}
	set, digest, err := w.load(ctx)
	if err != nil {
		fsw.Close()
		return nil, err
	}
	w.current.Store(set)
	w.digest = digest
	return w, nil
}

// Current returns the policy set in force. It is safe to call from any goroutine; a set, once
// returned, stays valid after a reload.
func (w *RegoWatcher) Current() *RegoSet { return w.current.Load() }

// Close releases the watch; Run calls it on return, and calling it again is harmless.
func (w *RegoWatcher) Close() error { return w.fsw.Close() }

// Run processes changes until ctx ends, then closes the watch. It returns an error only when
// the watch itself fails beyond repair.
func (w *RegoWatcher) Run(ctx context.Context) error {
	defer w.Close()
	timer := time.NewTimer(w.opts.Debounce)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return errors.New("watch policies: the watch was closed")
			}
			if ev.Has(fsnotify.Create) {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					// Watch a new folder at once, so that the files written into it next are seen;
					// those written before are read by the reload anyway.
					if err := w.watchTree(ev.Name); err != nil {
						w.report(RegoReload{Err: err})
					}
				}
			}
			timer.Reset(w.opts.Debounce)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return errors.New("watch policies: the watch was closed")
			}
			// An overflow loses events; a reload rereads everything.
			w.report(RegoReload{Err: fmt.Errorf("watch policies %s: %w", w.dir, err)})
			timer.Reset(w.opts.Debounce)
		case <-timer.C:
			if !w.reload(ctx) {
				timer.Reset(w.opts.Retry)
			}
		}
	}
}

// reload recompiles the folder after a change and reports the outcome; false means the folder
// is gone and must be looked for again.
func (w *RegoWatcher) reload(ctx context.Context) bool {
	if _, err := os.Stat(w.dir); err != nil {
		if w.digest != "" {
			w.digest = ""
			w.report(RegoReload{Err: fmt.Errorf("policy directory: %w; keeping the policies loaded before", err)})
		}
		return false
	}
	// A folder that was replaced (renamed away and back, or recreated) lost its watches.
	if err := w.watchTree(w.dir); err != nil {
		w.report(RegoReload{Err: err})
	}
	set, digest, err := w.load(ctx)
	if digest != "" && digest == w.digest {
		return true // touched, not changed
	}
	w.digest = digest
	if err != nil {
		w.report(RegoReload{Err: err})
		return true
	}
	w.current.Store(set)
	w.report(RegoReload{Set: set})
	return true
}

func (w *RegoWatcher) load(ctx context.Context) (*RegoSet, string, error) {
	return loadRegoDigest(ctx, os.DirFS(w.dir), func(name string) string {
		return filepath.Join(w.dir, filepath.FromSlash(name))
	}, w.opts.Rego)
}

func (w *RegoWatcher) report(r RegoReload) {
	if w.opts.OnReload != nil {
		w.opts.OnReload(r)
	}
}

// watchTree watches root and every folder under it but hidden ones, which the loader skips.
func (w *RegoWatcher) watchTree(root string) error {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		return w.fsw.Add(path)
	})
	if err != nil {
		return fmt.Errorf("watch policies %s: %w", root, err)
	}
	return nil
}
