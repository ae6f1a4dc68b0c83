package source_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"time"

	"github.com/gitops-agent/gitops-agent/sync/gitserver"
	"github.com/gitops-agent/gitops-agent/sync/source"
)

// A Poller follows a repository; its first event carries the whole state.
func ExamplePoller() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	root, _ := os.MkdirTemp("", "example-git-")
	defer os.RemoveAll(root)

	// A repository with one tag, served over smart HTTP.
	srv, err := gitserver.New(ctx, root, gitserver.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	repo, err := gitserver.NewRepo(ctx, root, "app.git", root+"/work", "testdata/site")
	if err == nil {
		err = repo.Tag(ctx, "production", "HEAD", "promote")
	}
	if err == nil {
		err = repo.Push(ctx)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	g, err := source.NewGit(source.GitOptions{URL: hs.URL + "/app.git", Dir: root + "/cache"})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := source.NewPoller(g, source.DefaultPollerOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	events := make(chan source.Event, 1)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- p.Run(runCtx, func(_ context.Context, ev source.Event) { events <- ev }) }()
	defer func() { stop(); <-done }()

	ev := <-events
	fmt.Println(ev.Reason, ev.Err, ev.Change.Cloned, ev.Change.CloneReason)
	for _, tc := range ev.Change.Tags {
		fmt.Println(tc.Name, tc.Action, tc.New == ev.Change.After.Head)
	}
	// Output:
	// start <nil> true no cache yet
	// production added true
}
