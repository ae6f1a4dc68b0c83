package promote

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gitops-agent/gitops-agent/sync/apply"
)

// maxJobName keeps a run's name usable as the job-name label of its pods.
const maxJobName = 63

// smoke runs the plan's smoke Jobs under fresh names (a Job's template is immutable) once the
// earlier runs are deleted, and waits for them to complete.
func (p *Promoter) smoke(ctx context.Context, e *envWorker, commit string, plan *Plan) error {
	runs := make([]*unstructured.Unstructured, 0, len(plan.Smoke))
	for _, job := range plan.Smoke {
		n, err := p.deleteRuns(ctx, e, job, commit)
		if err != nil {
			return err
		}
		runs = append(runs, smokeRun(job, commit, n))
	}
	if err := p.apply(ctx, e, commit, runs, "start smoke Jobs"); err != nil {
		return err
	}
	return p.waitHealthy(ctx, e, refsOf(runs), e.cfg.SmokeTimeout, "smoke gate")
}

// runPrefix is the start of the names of job's runs for commit.
func runPrefix(job, commit string) string {
	suffix := "-" + shortCommit(commit) + "-"
	// Room for the suffix and a run number of up to four digits.
	if room := maxJobName - len(suffix) - 4; len(job) > room {
		job = strings.TrimRight(job[:room], "-.")
	}
	return job + suffix
}

// smokeRun returns run n of the smoke Job job for commit.
func smokeRun(job *unstructured.Unstructured, commit string, n int) *unstructured.Unstructured {
	run := job.DeepCopy()
	run.SetName(runPrefix(job.GetName(), commit) + strconv.Itoa(n))
	lbls := run.GetLabels()
	if lbls == nil {
		lbls = map[string]string{}
	}
	lbls[LabelSmokeOf] = job.GetName()
	run.SetLabels(lbls)
	// The Job controller generates the selector and the pod labels that go with it.
	unstructured.RemoveNestedField(run.Object, "spec", "selector")
	unstructured.RemoveNestedField(run.Object, "spec", "manualSelector")
	if tl, _, _ := unstructured.NestedStringMap(run.Object, "spec", "template", "metadata", "labels"); tl != nil {
		for _, k := range []string{"controller-uid", "job-name", "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"} {
			delete(tl, k)
		}
		_ = unstructured.SetNestedStringMap(run.Object, tl, "spec", "template", "metadata", "labels")
	}
	return run
}

// deleteRuns deletes the earlier runs of job and returns the number of its next run for
// commit.
func (p *Promoter) deleteRuns(ctx context.Context, e *envWorker, job *unstructured.Unstructured, commit string) (int, error) {
	sel := labels.Set{apply.LabelEnvironment: e.cfg.Name, LabelSmokeOf: job.GetName()}.String()
	ri := e.cfg.Target.Client.Resource(jobsGVR).Namespace(job.GetNamespace())
	list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return 0, fmt.Errorf("list the earlier runs of smoke Job %s/%s: %w", job.GetNamespace(), job.GetName(), err)
	}
	prefix := runPrefix(job.GetName(), commit)
	next := 1
	for _, run := range list.Items {
		if n, err := strconv.Atoi(strings.TrimPrefix(run.GetName(), prefix)); err == nil && strings.HasPrefix(run.GetName(), prefix) {
			next = max(next, n+1)
		}
		err := ri.Delete(ctx, run.GetName(), metav1.DeleteOptions{PropagationPolicy: new(metav1.DeletePropagationBackground)})
		if err != nil && !isNotFound(err) {
			return 0, fmt.Errorf("delete the earlier smoke run %s/%s: %w", run.GetNamespace(), run.GetName(), err)
		}
	}
	return next, nil
}
