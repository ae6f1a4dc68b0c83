package promote

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitops-agent/gitops-agent/localcluster"
)

const promotionTimeout = 90 * time.Second

// promoteFirst promotes version 1.0.0 with tag prod/1, which goes live in blue.
func (h *harness) promoteFirst(p *running) string {
	h.t.Helper()
	c1 := h.commit(release{version: "1.0.0"})
	h.tag("prod/1", c1)
	p.SetTags(h.tags())
	h.waitState(p, promotionTimeout, "blue live at 1.0.0", liveIs(Blue, c1))
	return c1
}

// TestPromote promotes twice: the first promotion makes blue live, the second deploys green
// at blue's current replicas, gates it on health and the smoke Job, and switches the router
// without its EndpointSlices ever lacking a ready endpoint.
func TestPromote(t *testing.T) {
	h := newHarness(t)
	p := h.start(h.envConfig(), allowAll{}, nil)

	began := time.Now()
	c1 := h.promoteFirst(p)
	t.Logf("first promotion (blue, nothing live before): %s", time.Since(began).Round(time.Millisecond))
	if got := h.routerColor(); got != Blue {
		t.Fatalf("router selects %q after the first promotion, want blue", got)
	}
	w := h.watchEndpoints("web")
	w.waitReady("web-blue-", 2, 30*time.Second)

	// An autoscaler grew the live colour: the idle one starts at the same size.
	if _, err := h.cs.AppsV1().Deployments(h.ns).Patch(context.Background(), "web-blue", types.MergePatchType,
		[]byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{FieldManager: "test-autoscaler"}); err != nil {
		t.Fatal(err)
	}
	w.waitReady("web-blue-", 3, 30*time.Second)

	c2 := h.commit(release{version: "2.0.0"})
	h.tag("prod/2", c2)
	began = time.Now()
	p.SetTags(h.tags())
	st := h.waitState(p, promotionTimeout, "green live at 2.0.0", liveIs(Green, c2))
	took := time.Since(began)
	t.Logf("full promotion (render, deploy green, health gate, smoke Job, switch): %s", took.Round(time.Millisecond))
	w.waitReady("web-green-", 3, 30*time.Second)
	minReady, changes := w.stop()
	if minReady < 1 {
		t.Errorf("the router's EndpointSlices had %d ready endpoints during the switch; changes:\n%s", minReady, strings.Join(changes, "\n"))
	}
	t.Logf("router endpoints during the switch (fewest ready: %d):\n%s", minReady, strings.Join(changes, "\n"))

	if got := h.routerColor(); got != Green {
		t.Errorf("router selects %q, want green", got)
	}
	if spec, ready := h.replicas(Green); spec != 3 || ready != 3 {
		t.Errorf("web-green has %d replicas (%d ready), want the live colour's 3", spec, ready)
	}
	if spec, ready := h.replicas(Blue); spec != 3 || ready != 3 {
		t.Errorf("web-blue has %d replicas (%d ready) within the rollback window, want 3", spec, ready)
	}
	if got := h.image(Green); got != "registry.example/web:2.0.0" {
		t.Errorf("web-green runs %s, want 2.0.0", got)
	}
	if diff := cmp.Diff(&Release{Color: Blue, Commit: c1, Tag: "prod/1"}, st.Previous); diff != "" {
		t.Errorf("previous release (-want +got):\n%s", diff)
	}
	if until := time.Until(st.RollbackUntil); until < 59*time.Minute || until > time.Hour {
		t.Errorf("rollback window ends in %s, want about an hour", until)
	}
	if diff := cmp.Diff([]string{"promoted prod/1", "promoted prod/2"}, results(st)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	preview, err := h.cs.CoreV1().Services(h.ns).Get(context.Background(), "web-preview", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("preview Service: %v", err)
	}
	if preview.Spec.Selector[LabelColor] != "green" || preview.Labels[LabelPreview] != "true" {
		t.Errorf("preview Service selects %v with labels %v", preview.Spec.Selector, preview.Labels)
	}
	runs, err := h.cs.BatchV1().Jobs(h.ns).List(context.Background(), metav1.ListOptions{LabelSelector: LabelSmokeOf + "=web-smoke"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range runs.Items {
		names = append(names, j.Name)
	}
	if diff := cmp.Diff([]string{"web-smoke-" + shortCommit(c2) + "-1"}, names); diff != "" {
		t.Errorf("smoke runs (the earlier one deleted) (-want +got):\n%s", diff)
	}
	p.mu.Lock()
	applied := p.applied[c2]
	p.mu.Unlock()
	wantApplied := []string{
		"ConfigMap/" + h.ns + "/web-settings", "Deployment.apps/" + h.ns + "/web-green", "Service/" + h.ns + "/web-preview",
		"Job.batch/" + h.ns + "/web-smoke-" + shortCommit(c2) + "-1", "Service/" + h.ns + "/web",
	}
	if diff := cmp.Diff(wantApplied, applied); diff != "" {
		t.Errorf("objects reported to Options.Applied for %s (-want +got):\n%s", shortCommit(c2), diff)
	}
	if got := testutil.ToFloat64(p.metrics.promotions.WithLabelValues(testEnv, "promoted")); got != 2 {
		t.Errorf("gitops_agent_promotions_total{result=promoted} = %v, want 2", got)
	}
	if got := testutil.ToFloat64(p.metrics.liveInfo.WithLabelValues(testEnv, "green", c2)); got != 1 {
		t.Errorf("gitops_agent_promotion_live_info{color=green} = %v, want 1", got)
	}
	if got := testutil.CollectAndCount(p.metrics.liveInfo); got != 1 {
		t.Errorf("gitops_agent_promotion_live_info has %d series, want 1 (the live pair only)", got)
	}
	if got := testutil.ToFloat64(p.metrics.phase.WithLabelValues(testEnv, string(PhaseLive))); got != 1 {
		t.Errorf("gitops_agent_promotion_phase{phase=Live} = %v, want 1", got)
	}
	if events := strings.Join(h.drainEvents(), "\n"); !strings.Contains(events, "Normal Promoted promoted: commit "+shortCommit(c2)) {
		t.Errorf("no Promoted event for %s among:\n%s", shortCommit(c2), events)
	}
}

// TestAbortNeverReady: an image that never becomes ready fails the health gate; the live
// colour is untouched and the idle one scaled to zero.
func TestAbortNeverReady(t *testing.T) {
	h := newHarness(t)
	cfg := h.envConfig()
	cfg.HealthTimeout = 5 * time.Second
	p := h.start(cfg, allowAll{}, nil)
	c1 := h.promoteFirst(p)

	c2 := h.commit(release{version: "2.0.0", behavior: localcluster.BehaviorNeverReady})
	h.tag("prod/2", c2)
	p.SetTags(h.tags())
	st := h.waitState(p, promotionTimeout, "aborted", func(st State) bool { return st.Phase == PhaseAborted })
	h.checkAborted(p, st, c1, "prod/2", "health gate: not healthy within 5s", "Deployment.apps/"+h.ns+"/web-green InProgress")
}

// TestAbortSmokeFails: a smoke Job that fails aborts the promotion with the Job's reason.
func TestAbortSmokeFails(t *testing.T) {
	h := newHarness(t)
	p := h.start(h.envConfig(), allowAll{}, nil)
	c1 := h.promoteFirst(p)

	c2 := h.commit(release{version: "2.0.0", smokeBehavior: localcluster.BehaviorFail})
	h.tag("prod/2", c2)
	p.SetTags(h.tags())
	st := h.waitState(p, promotionTimeout, "aborted", func(st State) bool { return st.Phase == PhaseAborted })
	h.checkAborted(p, st, c1, "prod/2", "smoke gate", "Job.batch/"+h.ns+"/web-smoke-"+shortCommit(c2)+"-1 Failed: Job failed")
}

// checkAborted checks an abort: the routers and the live colour untouched, the idle colour
// scaled to zero, the preview gone, and the abort in history, Events and metrics.
func (h *harness) checkAborted(p *running, st State, live, tag string, reasons ...string) {
	h.t.Helper()
	if got := h.routerColor(); got != Blue {
		h.t.Errorf("router selects %q, want blue (untouched)", got)
	}
	if st.Live == nil || st.Live.Commit != live || st.Live.Color != Blue {
		h.t.Errorf("live release %+v, want blue at %s", st.Live, shortCommit(live))
	}
	if spec, ready := h.replicas(Blue); spec != 2 || ready != 2 {
		h.t.Errorf("live web-blue has %d replicas (%d ready), want 2", spec, ready)
	}
	if spec, _ := h.replicas(Green); spec != 0 {
		h.t.Errorf("idle web-green has %d replicas after the abort, want 0", spec)
	}
	if _, err := h.cs.CoreV1().Services(h.ns).Get(context.Background(), "web-preview", metav1.GetOptions{}); !isNotFound(err) {
		h.t.Errorf("preview Service after the abort: %v, want it deleted", err)
	}
	if diff := cmp.Diff([]string{"promoted prod/1", "aborted " + tag}, results(st)); diff != "" {
		h.t.Errorf("history (-want +got):\n%s", diff)
	}
	for _, r := range reasons {
		if !strings.Contains(st.History[0].Reason, r) {
			h.t.Errorf("abort reason %q does not say %q", st.History[0].Reason, r)
		}
	}
	if got := testutil.ToFloat64(p.metrics.promotions.WithLabelValues(testEnv, "aborted")); got != 1 {
		h.t.Errorf("gitops_agent_promotions_total{result=aborted} = %v, want 1", got)
	}
	if events := strings.Join(h.drainEvents(), "\n"); !strings.Contains(events, "Warning PromotionAborted") {
		h.t.Errorf("no PromotionAborted event among:\n%s", events)
	}
	h.t.Logf("abort reason: %s", st.History[0].Reason)
}

// TestAbortInvalid: a commit with deny findings is refused before anything is applied.
func TestAbortInvalid(t *testing.T) {
	h := newHarness(t)
	p := h.start(h.envConfig(), denyAll{}, nil)
	c1 := h.commit(release{version: "1.0.0"})
	h.tag("prod/1", c1)
	p.SetTags(h.tags())
	st := h.waitState(p, promotionTimeout, "aborted", func(st State) bool { return st.Phase == PhaseAborted })
	if !strings.Contains(st.Message, "promotion of commit "+shortCommit(c1)+" aborted: validation: 4 deny finding(s): test-deny on ") {
		t.Errorf("message %q does not give the deny findings", st.Message)
	}
	if spec, _ := h.replicas(Blue); spec != -1 {
		t.Errorf("web-blue exists (%d replicas): a refused commit must apply nothing", spec)
	}
	if st.Live != nil {
		t.Errorf("live release %+v after a refused first promotion, want none", st.Live)
	}
}

// TestRollbackWithinWindow switches back to the warm previous colour at once.
func TestRollbackWithinWindow(t *testing.T) {
	h := newHarness(t)
	p := h.start(h.envConfig(), allowAll{}, nil)
	c1 := h.promoteFirst(p)
	if err := p.Rollback(testEnv); err == nil || !strings.Contains(err.Error(), "no previous release") {
		t.Errorf("Rollback with no previous release: %v, want an error saying so", err)
	}
	c2 := h.commit(release{version: "2.0.0"})
	h.tag("prod/2", c2)
	p.SetTags(h.tags())
	h.waitState(p, promotionTimeout, "green live", liveIs(Green, c2))

	began := time.Now()
	if err := p.Rollback(testEnv); err != nil {
		t.Fatal(err)
	}
	st := h.waitState(p, 10*time.Second, "blue live again", liveIs(Blue, c1))
	took := time.Since(began)
	t.Logf("rollback within the window: %s", took.Round(time.Millisecond))
	if took > 3*time.Second {
		t.Errorf("rollback within the window took %s; it only switches the routers", took)
	}
	if got := h.routerColor(); got != Blue {
		t.Errorf("router selects %q after the rollback, want blue", got)
	}
	if diff := cmp.Diff([]string{"promoted prod/1", "promoted prod/2", "rolled-back prod/1"}, results(st)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&Release{Color: Green, Commit: c2, Tag: "prod/2"}, st.Previous); diff != "" {
		t.Errorf("previous release, ready to roll forward (-want +got):\n%s", diff)
	}
	// The rolled-back tag is still the newest: it must not be promoted again.
	p.SetTags(map[string]string{})
	p.SetTags(h.tags())
	time.Sleep(time.Second)
	if st, _ := p.State(testEnv); !liveIs(Blue, c1)(st) {
		t.Errorf("after the rollback the newest tag was promoted again: %s", describeState(st))
	}
}

// TestRollbackAfterWindow: once the rollback window is over, the previous colour is scaled to
// zero and what left git pruned (not before); a rollback then redeploys the previous commit
// through the gates.
func TestRollbackAfterWindow(t *testing.T) {
	h := newHarness(t)
	cfg := h.envConfig()
	cfg.RollbackWindow = 3 * time.Second
	p := h.start(cfg, allowAll{}, nil)
	c1 := h.commit(release{version: "1.0.0", legacy: true})
	h.tag("prod/1", c1)
	p.SetTags(h.tags())
	h.waitState(p, promotionTimeout, "blue live", liveIs(Blue, c1))
	c2 := h.commit(release{version: "2.0.0"})
	h.tag("prod/2", c2)
	p.SetTags(h.tags())
	h.waitState(p, promotionTimeout, "green live", liveIs(Green, c2))
	legacy := func() error {
		_, err := h.cs.CoreV1().ConfigMaps(h.ns).Get(context.Background(), "web-legacy", metav1.GetOptions{})
		return err
	}
	if err := legacy(); err != nil {
		t.Errorf("ConfigMap web-legacy, which 2.0.0 dropped, within the rollback window: %v; want it kept for a rollback", err)
	}
	if spec, _ := h.replicas(Blue); spec != 2 {
		t.Errorf("web-blue has %d replicas within the rollback window, want 2", spec)
	}
	h.waitState(p, promotionTimeout, "blue retired", func(st State) bool { return st.RollbackUntil.IsZero() })
	if spec, _ := h.replicas(Blue); spec != 0 {
		t.Fatalf("web-blue has %d replicas after the rollback window, want 0", spec)
	}
	if err := legacy(); !isNotFound(err) {
		t.Errorf("ConfigMap web-legacy after the rollback window: %v; want it pruned", err)
	}

	began := time.Now()
	if err := p.Rollback(testEnv); err != nil {
		t.Fatal(err)
	}
	st := h.waitState(p, promotionTimeout, "blue redeployed at 1.0.0", liveIs(Blue, c1))
	t.Logf("rollback after the window (redeploy through the gates): %s", time.Since(began).Round(time.Millisecond))
	if got := h.image(Blue); got != "registry.example/web:1.0.0" {
		t.Errorf("web-blue runs %s, want 1.0.0", got)
	}
	if spec, ready := h.replicas(Blue); spec != 2 || ready != 2 {
		t.Errorf("web-blue has %d replicas (%d ready), want 2", spec, ready)
	}
	if got := h.routerColor(); got != Blue {
		t.Errorf("router selects %q, want blue", got)
	}
	if diff := cmp.Diff([]string{"promoted prod/1", "promoted prod/2", "rolled-back prod/1"}, results(st)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

// TestSupersede: a newer tag arriving mid-promotion cancels the running one cleanly.
func TestSupersede(t *testing.T) {
	h := newHarness(t)
	p := h.start(h.envConfig(), allowAll{}, nil)
	h.promoteFirst(p)

	// 2.0.0 never becomes ready, so that its promotion is still at the health gate.
	c2 := h.commit(release{version: "2.0.0", behavior: localcluster.BehaviorNeverReady})
	c3 := h.commit(release{version: "3.0.0"})
	h.tag("prod/2", c2)
	p.SetTags(h.tags())
	h.waitState(p, promotionTimeout, "verifying 2.0.0", func(st State) bool {
		return st.Phase == PhaseVerifying && st.Current != nil && st.Current.Commit == c2
	})
	h.tag("prod/3", c3)
	p.SetTags(h.tags())
	st := h.waitState(p, promotionTimeout, "green live at 3.0.0", liveIs(Green, c3))
	if diff := cmp.Diff([]string{"promoted prod/1", "superseded prod/2", "promoted prod/3"}, results(st)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if r := st.History[1].Reason; !strings.Contains(r, "superseded by tag prod/3") {
		t.Errorf("superseded reason %q", r)
	}
	// No half state: nothing of 2.0.0 runs, blue still runs 1.0.0 for a rollback.
	rss, err := h.cs.AppsV1().ReplicaSets(h.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range rss.Items {
		if img := rs.Spec.Template.Spec.Containers[0].Image; strings.HasSuffix(img, ":2.0.0") && *rs.Spec.Replicas != 0 {
			t.Errorf("ReplicaSet %s of the superseded 2.0.0 has %d replicas", rs.Name, *rs.Spec.Replicas)
		}
	}
	if got := h.image(Blue); got != "registry.example/web:1.0.0" {
		t.Errorf("web-blue runs %s, want 1.0.0", got)
	}
	if got := testutil.ToFloat64(p.metrics.promotions.WithLabelValues(testEnv, "superseded")); got != 1 {
		t.Errorf("gitops_agent_promotions_total{result=superseded} = %v, want 1", got)
	}
}

// TestApproval: without AutoPromote the promotion waits with the preview live; Confirm
// switches, also after a restart.
func TestApproval(t *testing.T) {
	h := newHarness(t)
	cfg := h.envConfig()
	cfg.AutoPromote = false
	p := h.start(cfg, allowAll{}, nil)
	c1 := h.commit(release{version: "1.0.0"})
	h.tag("prod/1", c1)
	if err := p.Confirm(testEnv); err == nil {
		t.Error("Confirm with nothing awaiting approval succeeded")
	}
	p.SetTags(h.tags())
	awaiting := func(st State) bool { return st.Phase == PhaseAwaitingApproval }
	h.waitState(p, promotionTimeout, "awaiting approval", awaiting)
	if err := p.Confirm(testEnv); err != nil {
		t.Fatal(err)
	}
	h.waitState(p, promotionTimeout, "blue live", liveIs(Blue, c1))

	c2 := h.commit(release{version: "2.0.0"})
	h.tag("prod/2", c2)
	p.SetTags(h.tags())
	h.waitState(p, promotionTimeout, "awaiting approval", awaiting)
	if got := h.routerColor(); got != Blue {
		t.Errorf("router selects %q while green awaits approval, want blue", got)
	}
	preview, err := h.cs.CoreV1().Services(h.ns).Get(context.Background(), "web-preview", metav1.GetOptions{})
	if err != nil || preview.Spec.Selector[LabelColor] != "green" {
		t.Errorf("preview Service while green awaits approval: %v %v, want it to select green", preview.Spec.Selector, err)
	}

	p.stop()
	p = h.start(cfg, allowAll{}, nil)
	p.SetTags(h.tags())
	h.waitState(p, 10*time.Second, "awaiting approval after the restart", awaiting)
	if err := p.Confirm(testEnv); err != nil {
		t.Fatal(err)
	}
	st := h.waitState(p, promotionTimeout, "green live", liveIs(Green, c2))
	if diff := cmp.Diff([]string{"promoted prod/1", "promoted prod/2"}, results(st)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

// TestRestartBeforeSwitch kills the promoter at the smoke gate: the next one aborts the
// half-done promotion cleanly and starts it again.
func TestRestartBeforeSwitch(t *testing.T) {
	h := newHarness(t)
	cfg := h.envConfig()
	first := h.start(cfg, allowAll{}, nil)
	c1 := h.promoteFirst(first)
	first.stop()

	killed := h.start(cfg, allowAll{}, func(r *running) {
		if st, _ := r.State(testEnv); st.Phase == PhaseSmoke {
			r.cancel()
		}
	})
	c2 := h.commit(release{version: "2.0.0"})
	h.tag("prod/2", c2)
	killed.SetTags(h.tags())
	<-killed.done
	stored, _, err := (&stateStore{client: h.cs, namespace: h.ns}).load(context.Background(), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Phase != PhaseSmoke || stored.Current == nil || stored.Current.Commit != c2 {
		t.Fatalf("stored state after the kill: %s, want the promotion of 2.0.0 at the smoke gate", describeState(stored))
	}
	if got := h.routerColor(); got != Blue {
		t.Errorf("router selects %q after the kill, want blue", got)
	}

	p := h.start(cfg, allowAll{}, nil)
	p.SetTags(h.tags())
	st := h.waitState(p, promotionTimeout, "green live at 2.0.0", liveIs(Green, c2))
	if diff := cmp.Diff([]string{"promoted prod/1", "aborted prod/2", "promoted prod/2"}, results(st)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if r := st.History[1].Reason; !strings.Contains(r, "interrupted in phase Smoke") {
		t.Errorf("reason of the interrupted promotion: %q", r)
	}
	if diff := cmp.Diff(&Release{Color: Blue, Commit: c1, Tag: "prod/1"}, st.Previous); diff != "" {
		t.Errorf("previous release (-want +got):\n%s", diff)
	}
}

// TestRestartDuringSwitch kills the promoter once it recorded the switch; the routers end on
// the new colour if it is healthy, and back on the live one if it is not.
func TestRestartDuringSwitch(t *testing.T) {
	for _, healthy := range []bool{true, false} {
		t.Run(fmt.Sprintf("new colour healthy=%t", healthy), func(t *testing.T) {
			h := newHarness(t)
			cfg := h.envConfig()
			cfg.HealthTimeout = 5 * time.Second
			first := h.start(cfg, allowAll{}, nil)
			c1 := h.promoteFirst(first)
			first.stop()

			killed := h.start(cfg, allowAll{}, func(r *running) {
				if st, _ := r.State(testEnv); st.Phase == PhaseSwitching {
					r.cancel()
				}
			})
			c2 := h.commit(release{version: "2.0.0"})
			h.tag("prod/2", c2)
			killed.SetTags(h.tags())
			<-killed.done
			// The worst case: the kill came after the router was re-pointed.
			patchSelector := fmt.Sprintf(`{"spec":{"selector":{%q:"green"}}}`, LabelColor)
			if _, err := h.cs.CoreV1().Services(h.ns).Patch(context.Background(), "web", types.MergePatchType, []byte(patchSelector), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			if !healthy {
				// Green's new pods never become ready while the agent is down.
				patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, localcluster.PodBehaviorAnnotation, localcluster.BehaviorNeverReady)
				if _, err := h.cs.AppsV1().Deployments(h.ns).Patch(context.Background(), "web-green", types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "test"}); err != nil {
					t.Fatal(err)
				}
			}

			p := h.start(cfg, allowAll{}, nil)
			p.SetTags(h.tags())
			if healthy {
				st := h.waitState(p, promotionTimeout, "green live", liveIs(Green, c2))
				if got := h.routerColor(); got != Green {
					t.Errorf("router selects %q, want green", got)
				}
				if diff := cmp.Diff([]string{"promoted prod/1", "promoted prod/2"}, results(st)); diff != "" {
					t.Errorf("history (-want +got):\n%s", diff)
				}
				return
			}
			st := h.waitState(p, promotionTimeout, "aborted", func(st State) bool { return st.Phase == PhaseAborted })
			if got := h.routerColor(); got != Blue {
				t.Errorf("router selects %q after an interrupted switch to an unhealthy colour, want blue", got)
			}
			if !liveIs(Blue, c1)(st) {
				t.Errorf("state %s, want blue live at 1.0.0", describeState(st))
			}
			if r := st.History[0].Reason; !strings.Contains(r, "switch interrupted (agent restart or a failed step); health recheck of green: not healthy within 5s") {
				t.Errorf("abort reason %q", r)
			}
			if spec, _ := h.replicas(Green); spec != 0 {
				t.Errorf("web-green has %d replicas after the abort, want 0", spec)
			}
		})
	}
}

// BenchmarkPromotion measures a full promotion: render, deploy the idle colour, health gate,
// smoke Job, switch.
func BenchmarkPromotion(b *testing.B) {
	h := newHarness(b)
	p := h.start(h.envConfig(), allowAll{}, nil)
	h.promoteFirst(p)
	var total time.Duration
	i := 1
	for b.Loop() {
		i++
		c := h.commit(release{version: fmt.Sprintf("%d.0.0", i)})
		h.tag(fmt.Sprintf("prod/r%03d", i), c) // sorts after prod/1 when commit times tie
		began := time.Now()
		p.SetTags(h.tags())
		h.waitState(p, promotionTimeout, "promoted", func(st State) bool { return st.Live != nil && st.Live.Commit == c && st.Current == nil })
		total += time.Since(began)
	}
	b.ReportMetric(total.Seconds()/float64(i-1), "s/promotion")
}
