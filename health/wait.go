package health

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gitops-agent/gitops-agent/render"
)

// Aggregate is the health of a set of objects.
type Aggregate string

// Aggregates.
const (
	// AggregateReady: every object is Current.
	AggregateReady Aggregate = "Ready"
	// AggregateProgressing: no object failed, but not all were Current before the timeout.
	AggregateProgressing Aggregate = "Progressing"
	// AggregateFailed: at least one object Failed.
	AggregateFailed Aggregate = "Failed"
)

// Report is the outcome of Wait.
type Report struct {
	Aggregate Aggregate
	// Objects holds each object's last status, in the order Wait was given them.
	Objects []ObjectStatus
	// Elapsed is how long Wait took.
	Elapsed time.Duration
}

// Err returns nil when the set is Ready, and otherwise an error listing the objects that are
// not Current, failed ones first.
func (r Report) Err() error {
	if r.Aggregate == AggregateReady {
		return nil
	}
	var failedOnes, others []string
	for _, o := range r.Objects {
		switch o.Status {
		case Current:
		case Failed:
			failedOnes = append(failedOnes, o.String())
		default:
			others = append(others, o.String())
		}
	}
	lines := append(failedOnes, others...)
	verb := "failed"
	if r.Aggregate == AggregateProgressing {
		verb = "not ready after " + r.Elapsed.Round(time.Millisecond).String()
	}
	return fmt.Errorf("%d of %d objects %s: %s", len(lines), len(r.Objects), verb, strings.Join(lines, "; "))
}

// Wait reads the objects refs name every Options.Interval until all are Current (Ready), any
// has Failed (Failed, at once, without waiting for the others), or timeout passes
// (Progressing). An object that was Current once is not read again. The error is set only
// when ctx ends first; the report then holds what was known.
func (c *Checker) Wait(ctx context.Context, refs []render.Ref, timeout time.Duration) (Report, error) {
	start := time.Now()
	rep := Report{Objects: make([]ObjectStatus, len(refs))}
	for i, r := range refs {
		rep.Objects[i] = ObjectStatus{Ref: r, Result: Result{Status: Unknown, Message: "not read yet"}}
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	pending := make([]int, len(refs))
	for i := range pending {
		pending[i] = i
	}
	for {
		c.checkAll(waitCtx, rep.Objects, pending)
		rep.Elapsed = time.Since(start)
		next := pending[:0]
		for _, i := range pending {
			switch rep.Objects[i].Status {
			case Failed:
				rep.Aggregate = AggregateFailed
				return rep, nil
			case Current:
			default:
				next = append(next, i)
			}
		}
		pending = next
		if len(pending) == 0 {
			rep.Aggregate = AggregateReady
			return rep, nil
		}
		select {
		case <-waitCtx.Done():
			rep.Elapsed = time.Since(start)
			rep.Aggregate = AggregateProgressing
			return rep, ctx.Err()
		case <-time.After(c.opts.Interval):
		}
	}
}

// checkAll checks the objects at the pending indexes concurrently. A read cut short by the
// end of ctx keeps the object's previous status: the timeout says nothing about the object.
func (c *Checker) checkAll(ctx context.Context, statuses []ObjectStatus, pending []int) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(c.opts.Concurrency, len(pending)) {
		wg.Go(func() {
			for i := range work {
				st, err := c.Check(ctx, statuses[i].Ref)
				if err != nil && ctx.Err() != nil {
					continue
				}
				statuses[i] = st
			}
		})
	}
	for _, i := range pending {
		work <- i
	}
	close(work)
	wg.Wait()
}
