package apply

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ApplyOptions configure one Apply call. Start from DefaultApplyOptions.
type ApplyOptions struct {
	// Env is the environment the objects belong to; Apply labels every object with it.
	// Required.
	Env string
	// Force takes ownership of fields another field manager owns instead of failing with a
	// conflict. The repository is the source of truth, so the default is true.
	Force bool
	// Concurrency bounds the objects of one stage applied at once; 0 means the default.
	Concurrency int
	// WaitTimeout bounds waiting for a CRD to become Established and for an object being
	// recreated to be gone; 0 means the default.
	WaitTimeout time.Duration
	// PollInterval is how often those waits look again; 0 means the default.
	PollInterval time.Duration
}

// Defaults of ApplyOptions and PruneOptions.
const (
	DefaultConcurrency  = 16
	DefaultWaitTimeout  = 60 * time.Second
	DefaultPollInterval = 100 * time.Millisecond
)

// DefaultApplyOptions returns the options for applying the objects of env.
func DefaultApplyOptions(env string) ApplyOptions {
	return ApplyOptions{Env: env, Force: true, Concurrency: DefaultConcurrency, WaitTimeout: DefaultWaitTimeout, PollInterval: DefaultPollInterval}
}

func (o ApplyOptions) withDefaults() (ApplyOptions, error) {
	if err := validateEnv(o.Env); err != nil {
		return o, err
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	return o, nil
}

// PruneOptions configure one Prune call. Start from DefaultPruneOptions.
type PruneOptions struct {
	// Env is the environment whose objects may be deleted: an object is deleted only if its
	// labels say it was applied by gitops-agent for Env. Required.
	Env string
	// Concurrency bounds the deletions of one stage run at once; 0 means the default.
	Concurrency int
}

// DefaultPruneOptions returns the options for pruning the objects of env.
func DefaultPruneOptions(env string) PruneOptions {
	return PruneOptions{Env: env, Concurrency: DefaultConcurrency}
}

func (o PruneOptions) withDefaults() (PruneOptions, error) {
	if err := validateEnv(o.Env); err != nil {
		return o, err
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	return o, nil
}

// validateEnv checks that env can be the value of the environment label.
func validateEnv(env string) error {
	if env == "" {
		return errors.New("no environment given: the options' Env names the environment whose objects these are")
	}
	if msgs := validation.IsValidLabelValue(env); len(msgs) > 0 {
		return fmt.Errorf("environment %q cannot be the value of label %s: %s", env, LabelEnvironment, strings.Join(msgs, "; "))
	}
	return nil
}
