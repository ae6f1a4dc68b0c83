package health

import (
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

func jobHealth(j *batchv1.Job) Result {
	cond := func(t batchv1.JobConditionType) *batchv1.JobCondition {
		for i, c := range j.Status.Conditions {
			if c.Type == t && c.Status == corev1.ConditionTrue {
				return &j.Status.Conditions[i]
			}
		}
		return nil
	}
	if c := cond(batchv1.JobFailed); c != nil {
		return failed("Job failed%s", reasonMessage(c.Reason, c.Message))
	}
	if c := cond(batchv1.JobComplete); c != nil {
		return current("Job completed: %d succeeded", j.Status.Succeeded)
	}
	if c := cond(batchv1.JobFailureTarget); c != nil {
		// The controller decided that the Job fails and is terminating its pods.
		return failed("Job failing%s", reasonMessage(c.Reason, c.Message))
	}
	if j.Spec.Suspend != nil && *j.Spec.Suspend {
		return current("Job suspended (spec.suspend is true)")
	}
	completions := "any"
	if j.Spec.Completions != nil {
		completions = strconv.Itoa(int(*j.Spec.Completions))
	}
	return inProgress("Job running: %d active, %d succeeded of %s, %d failed", j.Status.Active, j.Status.Succeeded, completions, j.Status.Failed)
}
