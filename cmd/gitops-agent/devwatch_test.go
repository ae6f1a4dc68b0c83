package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-agent/gitops-agent/sync/gitserver"
	"github.com/gitops-agent/gitops-agent/sync/webhook"
)

type recordedTriggers chan string

func (r recordedTriggers) Trigger(reason string) { r <- reason }

// TestCheckoutMirror: under make run, saving a file in the checkout becomes a commit in the
// served repository, pushed over smart HTTP and announced by a correctly signed webhook.
func TestCheckoutMirror(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	checkout := filepath.Join(dir, "checkout")
	for _, sub := range deployedDirs {
		if err := os.MkdirAll(filepath.Join(checkout, sub, "dev"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(checkout, sub, "dev", "README.md"), []byte(sub+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(dir, "git")
	repo, err := gitserver.NewRepo(ctx, root, "deployments.git", filepath.Join(dir, "work"), checkout)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := gitserver.New(ctx, root, gitserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gitHTTP := httptest.NewServer(handler)
	defer gitHTTP.Close()
	if err := repo.SetOrigin(ctx, gitHTTP.URL+"/deployments.git"); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Git(ctx, "push", "-q", "--set-upstream", "origin", repo.Branch); err != nil {
		t.Fatal(err)
	}

	triggers := make(recordedTriggers, 10)
	secret := []byte("mirror-secret")
	hooks, err := webhook.New(triggers, webhook.Options{Secrets: map[webhook.Provider][]byte{webhook.Generic: secret}})
	if err != nil {
		t.Fatal(err)
	}
	hookHTTP := httptest.NewServer(hooks)
	defer hookHTTP.Close()

	m := &checkoutMirror{checkout: checkout, repo: repo, hookURL: hookHTTP.URL + "/hooks/generic", secret: secret, log: slog.New(slog.DiscardHandler)}
	go m.run(ctx)
	// Edit until the webhook comes: an edit made before the watches are set up goes unseen.
	deadline := time.After(15 * time.Second)
	for i := 0; ; i++ {
		content := strings.Repeat("# edit\n", i) + "resources: []\n"
		if err := os.WriteFile(filepath.Join(checkout, "environments", "dev", "kustomization.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		select {
		case reason := <-triggers:
			if reason != "webhook:generic" {
				t.Errorf("trigger reason %q", reason)
			}
		case <-time.After(time.Second):
			continue
		case <-deadline:
			t.Fatal("no signed webhook within 15s of editing")
		}
		break
	}
	log, err := repo.Git(ctx, "--git-dir", repo.Bare, "log", "-1", "--format=%s", "--name-only")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "make run: environments/dev/kustomization.yaml") {
		t.Errorf("the served repository's head is not the edit:\n%s", log)
	}
}
