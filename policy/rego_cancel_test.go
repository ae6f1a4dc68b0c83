package policy

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gitops-agent/gitops-agent/render"
)

// TestEvaluateStopsWhenCancelled cancels an evaluation that would take minutes: Evaluate must
// return soon, with an error.
func TestEvaluateStopsWhenCancelled(t *testing.T) {
	set := loadTestRego(t, "testdata/rego/slow", DefaultRegoOptions())
	objs := []render.Object{fixture(t, "configmap-plain")}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := set.Evaluate(ctx, "test", objs); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: got %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := set.Evaluate(ctx, "test", objs)
	if err == nil {
		t.Fatal("cancelled during evaluation: got no error")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("cancelled during evaluation: returned after %v", took)
	}
}
