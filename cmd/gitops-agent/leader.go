package main

import (
	"context"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// electAndLead runs lead while this replica holds the agent's Lease, so that two replicas never
// apply at once. Losing the lease ends lead's context; the process then exits, and its
// restart rejoins as a standby: the simplest way to be sure nothing of the old term runs on.
func (a *agent) electAndLead(ctx context.Context, lead func(context.Context) error) error {
	kube, err := kubernetes.NewForConfig(a.restConfig)
	if err != nil {
		return err
	}
	identity := os.Getenv("POD_NAME")
	if identity == "" {
		host, _ := os.Hostname()
		identity = host
	}
	identity += "_" + rand.String(6)
	// The lease lives in the agent's namespace; on a fresh cluster nobody has created it yet,
	// and the elector would retry creating the lease there forever.
	if err := a.statuses.EnsureNamespace(ctx); err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  leaseMeta(a.cfg.LeaderElection.LeaseName, a.cfg.Namespace),
		Client:     kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	leadErr := make(chan error, 1)
	electCtx, stopElecting := context.WithCancel(ctx)
	defer stopElecting()
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		ReleaseOnCancel: true,
		LeaseDuration:   15 * time.Second,
		RenewDeadline:   10 * time.Second,
		RetryPeriod:     2 * time.Second,
		Name:            a.cfg.LeaderElection.LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				a.log.Info("acquired the lease", "lease", a.cfg.Namespace+"/"+a.cfg.LeaderElection.LeaseName, "identity", identity)
				err := lead(ctx)
				leadErr <- err
				if err != nil {
					// A leader that cannot lead must not keep renewing the lease: stop electing,
					// which releases it to a standby, and exit with the error.
					stopElecting()
				}
			},
			OnStoppedLeading: func() {
				a.log.Info("released the lease", "identity", identity)
			},
			OnNewLeader: func(current string) {
				if current != identity {
					a.log.Info("standing by", "leader", current)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	a.log.Info("waiting for the lease", "lease", a.cfg.Namespace+"/"+a.cfg.LeaderElection.LeaseName, "identity", identity)
	elector.Run(electCtx)
	select {
	case err := <-leadErr:
		if err != nil {
			return err
		}
	default:
	}
	if ctx.Err() == nil {
		return fmt.Errorf("lost the lease %s/%s: exiting so that a restart rejoins as standby", a.cfg.Namespace, a.cfg.LeaderElection.LeaseName)
	}
	return nil
}

func leaseMeta(name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace}
}
