package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gitops-agent/gitops-agent/sync/gitserver"
	"github.com/gitops-agent/gitops-agent/sync/source"
)

// deployedDirs are the folders of the checkout that `make run` deploys.
var deployedDirs = [...]string{"manifests", "environments", "policies"}

// checkoutMirror carries edits made in the checkout into the served repository, so that under
// `make run` saving a file is enough: each debounced batch of edits becomes a commit, pushed
// over smart HTTP, announced with a signed webhook, and goes through the agent like any push.
type checkoutMirror struct {
	checkout string
	repo     *gitserver.Repo
	hookURL  string
	secret   []byte
	log      *slog.Logger
	mu       sync.Mutex // one commit at a time
}

func (m *checkoutMirror) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, sub := range deployedDirs {
		dir, err := source.NewDir(filepath.Join(m.checkout, sub), source.DirOptions{Debounce: 300 * time.Millisecond, MaxDelay: 2 * time.Second})
		if err != nil {
			m.log.Warn("not watching the checkout", "dir", sub, "error", err)
			continue
		}
		wg.Go(func() {
			err := dir.Run(ctx, func(ctx context.Context, ev source.Event) {
				if ev.Reason != source.ReasonFS {
					return
				}
				if err := m.publish(ctx, sub); err != nil {
					m.log.Error("could not carry the edit into the served repository", "dir", sub, "error", err)
				}
			})
			if err != nil && ctx.Err() == nil {
				m.log.Error("stopped watching the checkout", "dir", sub, "error", err)
			}
		})
	}
	wg.Wait()
}

// publish commits the folder as it is in the checkout and announces the push.
func (m *checkoutMirror) publish(ctx context.Context, sub string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dst := filepath.Join(m.repo.Work, sub)
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(m.checkout, sub))); err != nil {
		return fmt.Errorf("copy %s: %w", sub, err)
	}
	if _, err := m.repo.Git(ctx, "add", "-A", "--", sub); err != nil {
		return err
	}
	// git names the files that changed; the watcher's paths include editors' temporary files.
	changed, err := m.repo.Git(ctx, "diff", "--cached", "--name-only", "--", sub)
	if err != nil {
		return err
	}
	paths := strings.Fields(changed)
	if len(paths) == 0 {
		return nil // saved without a change
	}
	if _, err := m.repo.Git(ctx, "commit", "-q", "-m", "make run: "+strings.Join(paths, ", ")); err != nil {
		return err
	}
	if _, err := m.repo.Git(ctx, "push", "-q"); err != nil {
		return err
	}
	m.log.Info("checkout edit pushed", "paths", strings.Join(paths, ", "))
	return m.announce(ctx)
}

// announce sends the signed generic webhook a git host would send after a push.
func (m *checkoutMirror) announce(ctx context.Context) error {
	body := []byte(`{"ref":"refs/heads/main"}`)
	mac := hmac.New(sha256.New, m.secret)
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.hookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("webhook to the agent: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook to the agent: %s", resp.Status)
	}
	return nil
}
