package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/gitops-agent/gitops-agent/sync/source"
)

// ControllerOptions tune a Controller.
type ControllerOptions struct {
	// Workers sync this many environments at once. Default 8.
	Workers int
	// ResyncInterval re-applies every environment's commit this often, which costs no write
	// when nothing changed. Zero disables it.
	ResyncInterval time.Duration
}

// Controller drives a Reconciler the way Kubernetes controllers are driven: event sources (the
// git poller, webhooks through it, sync requests on Environment objects, a periodic resync)
// only enqueue environment names; workers sync them, one worker per environment at a time,
// and retry failures with rate-limited backoff.
type Controller struct {
	rec   *Reconciler
	queue workqueue.TypedRateLimitingInterface[string]
	opts  ControllerOptions
	log   *slog.Logger

	mu     sync.Mutex
	forced map[string]bool // environments whose next sync re-applies; guarded by mu
}

// NewController returns a controller of rec.
func NewController(rec *Reconciler, log *slog.Logger, opts ControllerOptions) *Controller {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	c := &Controller{
		rec: rec,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "environments"}),
		opts:   opts,
		log:    log,
		forced: map[string]bool{},
	}
	// A finished health wait is recorded by a sync of its environment.
	rec.notify = func(env string) { c.queue.Add(env) }
	return c
}

// HandleSourceEvent takes what the git poller reports: a new head syncs every environment; the
// first fetch after start re-applies every environment, so the agent converges after a crash.
func (c *Controller) HandleSourceEvent(_ context.Context, ev source.Event) {
	if ev.Err != nil {
		c.log.Error("fetch failed; environments stay on their commits", "trigger", ev.Reason, "error", ev.Err)
		return
	}
	head := ev.Change.After.Head
	if head == "" {
		return
	}
	moved := c.rec.SetHead(Head{Commit: head, Trigger: ev.Reason, TriggeredAt: ev.TriggeredAt})
	if ev.Change.Cloned {
		c.log.Info("cloned the repository", "reason", ev.Change.CloneReason, "head", shortCommit(head))
	}
	switch {
	case ev.Reason == source.ReasonStart:
		c.enqueueAll(true)
	case moved:
		c.log.Info("new commit", "commit", shortCommit(head), "trigger", ev.Reason)
		c.enqueueAll(false)
	}
}

func (c *Controller) enqueueAll(force bool) {
	for _, name := range c.rec.Environments() {
		c.enqueue(name, force)
	}
}

func (c *Controller) enqueue(name string, force bool) {
	if force {
		c.mu.Lock()
		c.forced[name] = true
		c.mu.Unlock()
	}
	c.queue.Add(name)
}

// PromotionActions carries out promotion requests; *promote.Promoter is one.
type PromotionActions interface {
	Confirm(env string) error
	Rollback(env string) error
}

// WatchRequests watches the Environment objects for requests: a new sync request enqueues its
// environment; a fetch request relayed by a standby replica calls fetch with the webhook's
// reason; confirm and rollback requests go to promotions (nil when no environment is
// promoted). It returns once the watch is running.
func (c *Controller) WatchRequests(ctx context.Context, dyn dynamic.Interface, namespace string, fetch func(reason string), promotions PromotionActions) error {
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, namespace, nil)
	informer := factory.ForResource(EnvironmentGVR).Informer()
	var lastFetch sync.Map // environment -> the fetch request last acted upon
	handle := func(obj any) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		if c.rec.RequestSync(u.GetName(), u.GetAnnotations()[SyncRequestAnnotation]) {
			c.log.Info("sync requested", "env", u.GetName())
			c.enqueue(u.GetName(), false)
		}
		if promotions != nil {
			c.takePromotionRequests(ctx, u, promotions)
		}
		if value := u.GetAnnotations()[FetchRequestAnnotation]; value != "" {
			if previous, seen := lastFetch.Swap(u.GetName(), value); !seen || previous != value {
				if reason, ok := parseFetchRequest(value); ok {
					fetch(reason)
				}
			}
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    handle,
		UpdateFunc: func(_, obj any) { handle(obj) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	cache.WaitForCacheSync(ctx.Done(), informer.HasSynced)
	return nil
}

// takePromotionRequests acts on the confirm and rollback requests on an Environment, each
// once: the request is removed first, so a crash loses it rather than acting twice (the
// command that set it reports that nothing happened).
func (c *Controller) takePromotionRequests(ctx context.Context, u *unstructured.Unstructured, promotions PromotionActions) {
	env := u.GetName()
	for _, req := range []struct {
		annotation, action string
		act                func(string) error
	}{
		{ConfirmRequestAnnotation, "confirm", promotions.Confirm},
		{RollbackRequestAnnotation, "rollback", promotions.Rollback},
	} {
		value := u.GetAnnotations()[req.annotation]
		if value == "" {
			continue
		}
		// Not in the informer's handler: it must not block on the API server.
		go func() {
			took, err := c.rec.status.TakeRequest(ctx, env, req.annotation, value, u.GetResourceVersion())
			if err != nil {
				c.log.Error("promotion request not taken", "env", env, "action", req.action, "error", err)
				return
			}
			if !took {
				return
			}
			c.log.Info("promotion request", "env", env, "action", req.action, "requestedAt", value)
			if err := req.act(env); err != nil {
				c.log.Warn("promotion request refused", "env", env, "action", req.action, "error", err)
				c.rec.event(env, corev1.EventTypeWarning, "PromotionRequestRefused", fmt.Sprintf("%s requested at %s: %v", req.action, value, err))
			}
		}()
	}
}

// Run syncs environments until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	defer c.queue.ShutDown()
	var wg sync.WaitGroup
	for range c.opts.Workers {
		wg.Go(func() {
			for c.processNext(ctx) {
			}
		})
	}
	if c.opts.ResyncInterval > 0 {
		wg.Go(func() {
			tick := time.NewTicker(c.opts.ResyncInterval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					c.enqueueAll(true)
				}
			}
		})
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
}

func (c *Controller) processNext(ctx context.Context) bool {
	name, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(name)
	c.mu.Lock()
	force := c.forced[name]
	delete(c.forced, name)
	c.mu.Unlock()
	if err := c.rec.Sync(ctx, name, force); err != nil {
		if ctx.Err() != nil {
			return false
		}
		c.log.Warn("sync will be retried", "env", name, "error", err, "retries", c.queue.NumRequeues(name))
		c.mu.Lock()
		c.forced[name] = c.forced[name] || force
		c.mu.Unlock()
		c.queue.AddRateLimited(name)
		return true
	}
	c.queue.Forget(name)
	return true
}
