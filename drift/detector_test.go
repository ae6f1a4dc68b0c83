package drift

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// detectionBudget is how soon after a change the issue wants its drift known.
const detectionBudget = time.Second

func TestDetectsOutOfBandChanges(t *testing.T) {
	r := newRig(t, Options{})
	r.apply(EnvSpec{}, "c1", r.deployment("api", 1), r.configMap("settings", map[string]any{"mode": "prod"}))
	r.waitFor("watching", 10*time.Second, func(Report) bool { return r.metric(`gitops_agent_drift_watched_objects{env="`+r.env+`"}`) == 2 })

	// Changes the agent does not own: an annotation and a label added by kubectl.
	r.patch(deployments, "api", "kubectl-annotate", map[string]any{"metadata": map[string]any{"annotations": map[string]any{"owner": "team-a"}}})
	r.patch(configMaps, "settings", "kubectl-label", map[string]any{"metadata": map[string]any{"labels": map[string]any{"tier": "gold"}}})
	// A change to a field the agent applied.
	r.patch(deployments, "api", "kubectl-patch", map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": "app", "image": "registry.example/app:evil", "resources": map[string]any{"requests": map[string]any{"cpu": "0.1", "memory": "64Mi"}}}},
	}}}})
	patched := time.Now()
	rep := r.waitFor("image drift", 10*time.Second, func(rep Report) bool { _, ok := object(rep, "Deployment", "api"); return ok })
	if took := time.Since(patched); took > detectionBudget {
		t.Errorf("drift reported %s after the patch, want within %s", took, detectionBudget)
	}
	got, _ := object(rep, "Deployment", "api")
	want := []FieldDrift{{Path: "/spec/template/spec/containers/0/image", Manager: "kubectl-patch", Desired: "registry.example/app:1", Live: "registry.example/app:evil"}}
	if diff := cmp.Diff(want, got.Fields); diff != "" || got.Type != Modified || got.Manager != "kubectl-patch" {
		t.Errorf("drift %s %q, fields (-want +got):\n%s", got.Type, got.Manager, diff)
	}
	if len(rep.Objects) != 1 || rep.Commit != "c1" {
		t.Errorf("report = %+v, want the Deployment only, at c1", rep)
	}
	if v := r.metric(`gitops_agent_drift_objects{env="` + r.env + `",kind="Deployment"}`); v != 1 {
		t.Errorf("gitops_agent_drift_objects = %v, want 1", v)
	}
	if v := r.metric(`gitops_agent_drift_events_total{env="` + r.env + `",kind="Deployment",type="modified"}`); v != 1 {
		t.Errorf("gitops_agent_drift_events_total = %v, want 1", v)
	}
	if v := r.metric(`gitops_agent_drift_detection_seconds_count{env="` + r.env + `"}`); v != 1 {
		t.Errorf("detection histogram count = %v, want 1", v)
	}
	if e, ok := r.events.find("DriftDetected", "Deployment.apps/"+r.ns+"/api", "/spec/template/spec/containers/0/image", "kubectl-patch"); !ok {
		t.Errorf("no DriftDetected Event naming the field and the manager; events: %q", r.events.all())
	} else if !strings.HasPrefix(e, "Warning ") {
		t.Errorf("event %q is not a Warning", e)
	}
	if logs := r.logs.String(); !strings.Contains(logs, `"msg":"drift detected"`) || !strings.Contains(logs, "kubectl-patch") {
		t.Errorf("no log line of the drift naming the manager:\n%s", logs)
	}

	// Undone by hand: resolved.
	r.patch(deployments, "api", "kubectl-patch", map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": "app", "image": "registry.example/app:1", "resources": map[string]any{"requests": map[string]any{"cpu": "0.1", "memory": "64Mi"}}}},
	}}}})
	r.waitFor("resolution", 10*time.Second, func(rep Report) bool { return len(rep.Objects) == 0 })
	if _, ok := r.events.find("DriftResolved", "Deployment.apps/"+r.ns+"/api"); !ok {
		t.Errorf("no DriftResolved Event; events: %q", r.events.all())
	}
	if v := r.metric(`gitops_agent_drift_objects{env="` + r.env + `",kind="Deployment"}`); v != 0 {
		t.Errorf("gitops_agent_drift_objects after resolution = %v, want 0", v)
	}
}

func TestDeleted(t *testing.T) {
	for _, selfHeal := range []bool{false, true} {
		t.Run(fmt.Sprintf("selfHeal=%v", selfHeal), func(t *testing.T) {
			r := newRig(t, Options{})
			r.apply(EnvSpec{SelfHeal: selfHeal}, "c1", r.configMap("settings", map[string]any{"mode": "prod"}), r.configMap("other", map[string]any{"a": "b"}))
			r.waitFor("watching", 10*time.Second, func(Report) bool { return r.metric(`gitops_agent_drift_watched_objects{env="`+r.env+`"}`) == 2 })
			if err := r.dyn.Resource(configMaps).Namespace(r.ns).Delete(context.Background(), "settings", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if !selfHeal {
				rep := r.waitFor("deleted", 10*time.Second, func(rep Report) bool { return len(rep.Objects) == 1 })
				if rep.Objects[0].Type != Deleted || rep.Objects[0].Ref.Name != "settings" {
					t.Errorf("report = %+v, want settings Deleted", rep)
				}
				return
			}
			r.waitFor("healed", 10*time.Second, func(Report) bool {
				_, ok := r.events.find("DriftHealed", "ConfigMap/"+r.ns+"/settings")
				return ok
			})
			if _, ok := r.events.find("DriftDetected", "ConfigMap/"+r.ns+"/settings", "deleted"); !ok {
				t.Errorf("no DriftDetected Event for the deletion; events: %q", r.events.all())
			}
			if _, err := r.dyn.Resource(configMaps).Namespace(r.ns).Get(context.Background(), "settings", metav1.GetOptions{}); err != nil {
				t.Errorf("the deleted ConfigMap was not recreated: %v", err)
			}
			if v := r.metric(`gitops_agent_drift_heals_total{env="` + r.env + `",result="healed"}`); v != 1 {
				t.Errorf("heals_total{healed} = %v, want 1", v)
			}
			if rep := r.detector.Report(r.env); len(rep.Objects) != 0 {
				t.Errorf("report after the heal = %+v, want none", rep)
			}
		})
	}
}

// A heal must not be reported as a new drift: after healing a modified object, the only
// drift events are the one that was healed.
func TestHealIsNotDrift(t *testing.T) {
	r := newRig(t, Options{})
	r.apply(EnvSpec{SelfHeal: true}, "c1", r.deployment("api", 2))
	r.waitFor("watching", 10*time.Second, func(Report) bool { return r.metric(`gitops_agent_drift_watched_objects{env="`+r.env+`"}`) == 1 })
	r.patch(deployments, "api", "kubectl-scale", map[string]any{"spec": map[string]any{"replicas": 5}})
	r.waitFor("healed", 10*time.Second, func(Report) bool { _, ok := r.events.find("DriftHealed"); return ok })
	time.Sleep(500 * time.Millisecond)
	live, err := r.dyn.Resource(deployments).Namespace(r.ns).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := unstructured.NestedInt64(live.Object, "spec", "replicas"); n != 2 {
		t.Errorf("replicas after the heal = %d, want 2", n)
	}
	if v := r.metric(`gitops_agent_drift_events_total{env="` + r.env + `",kind="Deployment",type="modified"}`); v != 1 {
		t.Errorf("drift events = %v, want 1 (the heal itself must not count); events: %q", v, r.events.all())
	}
}

func TestHPAReplicas(t *testing.T) {
	r := newRig(t, Options{})
	hpa := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
		"metadata": map[string]any{"name": "scaled", "namespace": r.ns},
		"spec": map[string]any{
			"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "scaled"},
			"minReplicas":    int64(1), "maxReplicas": int64(10),
		},
	}}
	r.apply(EnvSpec{IgnoreHPAReplicas: true}, "c1", r.deployment("scaled", 2), r.deployment("fixed", 2), hpa)
	r.waitFor("watching", 10*time.Second, func(Report) bool { return r.metric(`gitops_agent_drift_watched_objects{env="`+r.env+`"}`) == 3 })
	r.patch(deployments, "scaled", "kubectl-scale", map[string]any{"spec": map[string]any{"replicas": 4}})
	r.patch(deployments, "fixed", "kubectl-scale", map[string]any{"spec": map[string]any{"replicas": 4}})
	rep := r.waitFor("drift of the Deployment without an HPA", 10*time.Second, func(rep Report) bool { _, ok := object(rep, "Deployment", "fixed"); return ok })
	// Both patches were made before the second was reported; give the first one more time.
	time.Sleep(300 * time.Millisecond)
	rep = r.detector.Report(r.env)
	if _, ok := object(rep, "Deployment", "scaled"); ok {
		t.Errorf("the HPA's Deployment is reported: %+v", rep)
	}
	fixed, _ := object(rep, "Deployment", "fixed")
	if want := []string{"/spec/replicas"}; !cmp.Equal(fixed.Paths(), want) {
		t.Errorf("drift paths = %q, want %q", fixed.Paths(), want)
	}
}

func TestSecretValueNeverShown(t *testing.T) {
	r := newRig(t, Options{})
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "db", "namespace": r.ns},
		"data":       map[string]any{"password": base64.StdEncoding.EncodeToString([]byte("original-pass"))},
		"stringData": map[string]any{"token": "original-token"},
	}}
	r.apply(EnvSpec{SelfHeal: false}, "c1", secret)
	r.waitFor("watching", 10*time.Second, func(Report) bool { return r.metric(`gitops_agent_drift_watched_objects{env="`+r.env+`"}`) == 1 })

	leaked := fmt.Sprintf("Zebra-Leak-%d", time.Now().UnixNano())
	r.patch(secrets, "db", "kubectl-edit", map[string]any{"data": map[string]any{
		"password": base64.StdEncoding.EncodeToString([]byte(leaked)),
		"token":    base64.StdEncoding.EncodeToString([]byte(leaked + "-token")),
	}})
	rep := r.waitFor("secret drift", 10*time.Second, func(rep Report) bool { return len(rep.Objects) == 1 })
	want := []FieldDrift{
		{Path: "/data/password", Manager: "kubectl-edit", Desired: redacted, Live: redacted},
		{Path: "/data/token", Manager: "kubectl-edit", Desired: redacted, Live: redacted},
	}
	if diff := cmp.Diff(want, rep.Objects[0].Fields); diff != "" || rep.Objects[0].Type != Modified {
		t.Errorf("secret drift %s, fields (-want +got):\n%s", rep.Objects[0].Type, diff)
	}

	live, err := r.dyn.Resource(secrets).Namespace(r.ns).Get(context.Background(), "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	desired, err := r.detector.desiredFor(r.env, "Secret", "db")
	if err != nil {
		t.Fatal(err)
	}
	diff := UnifiedDiff(desired, live, nil)
	if !strings.Contains(diff, redactedChanged) {
		t.Errorf("the diff does not show the changed value as %q:\n%s", redactedChanged, diff)
	}
	report, err := json.Marshal(r.detector.Report(r.env))
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"log":     r.logs.String(),
		"events":  strings.Join(r.events.all(), "\n"),
		"metrics": r.metricsText(),
		"report":  string(report),
		"diff":    diff,
	}
	for _, secretText := range []string{leaked, base64.StdEncoding.EncodeToString([]byte(leaked)), "original-pass", "original-token",
		base64.StdEncoding.EncodeToString([]byte("original-pass"))} {
		for where, text := range outputs {
			if strings.Contains(text, secretText) {
				t.Errorf("the %s shows a Secret value (%q):\n%s", where, secretText, text)
			}
		}
	}
	if !strings.Contains(outputs["events"], "/data/password") {
		t.Errorf("the Event does not name the field: %q", outputs["events"])
	}
}

func TestFlapping(t *testing.T) {
	r := newRig(t, Options{HealBackoff: 100 * time.Millisecond, FlapThreshold: 3, FlapWindow: time.Minute})
	r.apply(EnvSpec{SelfHeal: true}, "c1", r.configMap("contested", map[string]any{"mode": "ours"}))
	r.waitFor("watching", 10*time.Second, func(Report) bool { return r.metric(`gitops_agent_drift_watched_objects{env="`+r.env+`"}`) == 1 })

	// The competing writer puts its value back whenever the agent heals.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var rewrites atomic.Int32
	go func() {
		for ctx.Err() == nil {
			cm, err := r.dyn.Resource(configMaps).Namespace(r.ns).Get(ctx, "contested", metav1.GetOptions{})
			if err == nil && cm.Object["data"].(map[string]any)["mode"] != "theirs" {
				raw := []byte(`{"data":{"mode":"theirs"}}`)
				if _, err := r.dyn.Resource(configMaps).Namespace(r.ns).Patch(ctx, "contested", "application/merge-patch+json", raw, metav1.PatchOptions{FieldManager: "rogue-operator"}); err == nil {
					rewrites.Add(1)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	rep := r.waitFor("healing stopped", 30*time.Second, func(rep Report) bool { return len(rep.Objects) == 1 && rep.Objects[0].Flapping })
	if got := rep.Objects[0]; got.Manager != "rogue-operator" {
		t.Errorf("flapping drift names manager %q, want rogue-operator", got.Manager)
	}
	gauge := `gitops_agent_drift_flapping{env="` + r.env + `",kind="ConfigMap",manager="rogue-operator",name="contested",namespace="` + r.ns + `"}`
	if v := r.metric(gauge); v != 1 {
		t.Errorf("%s = %v, want 1\n%s", gauge, v, r.metricsText())
	}
	if _, ok := r.events.find("HealStopped", "ConfigMap/"+r.ns+"/contested", "rogue-operator"); !ok {
		t.Errorf("no HealStopped Event naming the manager; events: %q", r.events.all())
	}
	if v := r.metric(`gitops_agent_drift_heals_total{env="` + r.env + `",result="healed"}`); v != 3 {
		t.Errorf("heals = %v, want 3 (the threshold)", v)
	}
	// Once stopped, the agent no longer writes: the competitor has nothing left to undo.
	before := rewrites.Load()
	time.Sleep(time.Second)
	if after := rewrites.Load(); after != before {
		t.Errorf("the competitor rewrote %d times after healing stopped", after-before)
	}

	// A new commit starts healing again.
	stop()
	r.apply(EnvSpec{SelfHeal: true}, "c2", r.configMap("contested", map[string]any{"mode": "ours"}))
	r.waitFor("flapping cleared by the new commit", 10*time.Second, func(rep Report) bool { return len(rep.Objects) == 0 })
	if v := r.metric(gauge); v != -1 {
		t.Errorf("%s = %v after the new commit, want the series gone", gauge, v)
	}
}

func TestOrphan(t *testing.T) {
	r := newRig(t, Options{})
	r.apply(EnvSpec{SelfHeal: true}, "c1", r.configMap("kept", map[string]any{"a": "1"}), r.configMap("dropped", map[string]any{"a": "2"}))
	// The next commit no longer declares "dropped", and its prune was disabled.
	if err := r.detector.SetDesired(r.env, EnvSpec{SelfHeal: true}, "c2", []*unstructured.Unstructured{r.configMap("kept", map[string]any{"a": "1"})}); err != nil {
		t.Fatal(err)
	}
	rep := r.waitFor("orphan", 10*time.Second, func(rep Report) bool { return len(rep.Objects) == 1 })
	if o := rep.Objects[0]; o.Type != Orphan || o.Ref.Name != "dropped" {
		t.Errorf("report = %+v, want dropped as an orphan", rep)
	}
	if _, ok := r.events.find("DriftDetected", "ConfigMap/"+r.ns+"/dropped", "not declared"); !ok {
		t.Errorf("no DriftDetected Event for the orphan; events: %q", r.events.all())
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := r.dyn.Resource(configMaps).Namespace(r.ns).Get(context.Background(), "dropped", metav1.GetOptions{}); apierrors.IsNotFound(err) {
		t.Error("the orphan was deleted")
	}
	if v := r.metric(`gitops_agent_drift_heals_total{env="` + r.env + `",result="healed"}`); v > 0 {
		t.Errorf("an orphan was healed %v times", v)
	}
}

// failingApplier refuses every heal.
type failingApplier struct{}

func (failingApplier) Apply(context.Context, []*unstructured.Unstructured, apply.ApplyOptions) (apply.ChangeSet, error) {
	return apply.ChangeSet{}, errors.New("admission webhook denied the request")
}

// Failed heals back off and are retried; they are not a competing writer.
func TestHealFailure(t *testing.T) {
	r := newRigWith(t, Options{HealBackoff: 20 * time.Millisecond, FlapThreshold: 2}, func(*apply.Manager) Applier { return failingApplier{} })
	r.apply(EnvSpec{SelfHeal: true}, "c1", r.configMap("settings", map[string]any{"mode": "prod"}))
	r.waitFor("watching", 10*time.Second, func(Report) bool { return r.metric(`gitops_agent_drift_watched_objects{env="`+r.env+`"}`) == 1 })
	r.patch(configMaps, "settings", "kubectl-edit", map[string]any{"data": map[string]any{"mode": "debug"}})
	r.waitFor("retried heals", 10*time.Second, func(Report) bool {
		return r.metric(`gitops_agent_drift_heals_total{env="`+r.env+`",result="failed"}`) >= 4
	})
	rep := r.detector.Report(r.env)
	if len(rep.Objects) != 1 || rep.Objects[0].Flapping {
		t.Errorf("report = %+v, want the drift, not flapping", rep)
	}
	if _, ok := r.events.find("HealStopped"); ok {
		t.Errorf("failed heals stopped healing; events: %q", r.events.all())
	}
	if _, ok := r.events.find("DriftHealFailed", "ConfigMap/"+r.ns+"/settings", "admission webhook denied"); !ok {
		t.Errorf("no DriftHealFailed Event with the error; events: %q", r.events.all())
	}
}
