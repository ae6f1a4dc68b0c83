package health

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func deploymentHealth(d *appsv1.Deployment) Result {
	if d.Status.ObservedGeneration < d.Generation {
		return inProgress("Deployment generation %d is not observed yet (controller at %d)", d.Generation, d.Status.ObservedGeneration)
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return failed("rollout exceeded its progress deadline of %ds: %s", progressDeadline(d), c.Message)
		}
	}
	want := replicas(d.Spec.Replicas)
	st := d.Status
	switch {
	case st.UpdatedReplicas < want:
		return inProgress("rolling out: %d of %d replicas updated", st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		return inProgress("rolling out: old replicas pending termination: %d", st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < st.UpdatedReplicas:
		return inProgress("%d of %d updated replicas available", st.AvailableReplicas, st.UpdatedReplicas)
	case st.ReadyReplicas < want:
		return inProgress("%d of %d replicas ready", st.ReadyReplicas, want)
	}
	return current("Deployment available: %d of %d replicas ready", st.ReadyReplicas, want)
}

func progressDeadline(d *appsv1.Deployment) int32 {
	if d.Spec.ProgressDeadlineSeconds == nil {
		return 600
	}
	return *d.Spec.ProgressDeadlineSeconds
}

func statefulSetHealth(s *appsv1.StatefulSet) Result {
	if s.Status.ObservedGeneration < s.Generation {
		return inProgress("StatefulSet generation %d is not observed yet (controller at %d)", s.Generation, s.Status.ObservedGeneration)
	}
	want := replicas(s.Spec.Replicas)
	st := s.Status
	switch {
	case st.ReadyReplicas < want:
		return inProgress("%d of %d replicas ready", st.ReadyReplicas, want)
	case st.AvailableReplicas < want:
		return inProgress("%d of %d replicas available", st.AvailableReplicas, want)
	}
	if s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		// Pods change only when someone deletes them: waiting for the update would never end.
		if st.UpdateRevision != "" && st.CurrentRevision != st.UpdateRevision {
			return current("StatefulSet ready: %d replicas; %d of them on revision %s (update strategy OnDelete: delete pods to update them)",
				want, want-st.UpdatedReplicas, st.CurrentRevision)
		}
		return current("StatefulSet ready: %d replicas", want)
	}
	var partition int32
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		partition = *ru.Partition
	}
	if partition > 0 {
		if st.UpdatedReplicas < want-partition {
			return inProgress("partitioned rollout: %d of %d replicas above partition %d updated", st.UpdatedReplicas, want-partition, partition)
		}
		return current("StatefulSet ready: %d replicas; partitioned rollout done (%d updated)", want, st.UpdatedReplicas)
	}
	if st.UpdatedReplicas < want || (st.UpdateRevision != "" && st.CurrentRevision != st.UpdateRevision) {
		return inProgress("rolling out revision %s: %d of %d replicas updated", st.UpdateRevision, st.UpdatedReplicas, want)
	}
	return current("StatefulSet ready: %d replicas", want)
}

func daemonSetHealth(d *appsv1.DaemonSet) Result {
	if d.Status.ObservedGeneration < d.Generation {
		return inProgress("DaemonSet generation %d is not observed yet (controller at %d)", d.Generation, d.Status.ObservedGeneration)
	}
	st := d.Status
	want := st.DesiredNumberScheduled
	switch {
	case d.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType && st.UpdatedNumberScheduled < want:
		return inProgress("rolling out: %d of %d pods updated", st.UpdatedNumberScheduled, want)
	case st.NumberAvailable < want:
		return inProgress("%d of %d pods available", st.NumberAvailable, want)
	case st.NumberReady < want:
		return inProgress("%d of %d pods ready", st.NumberReady, want)
	}
	return current("DaemonSet ready: %d pods", want)
}

func replicaSetHealth(r *appsv1.ReplicaSet) Result {
	if r.Status.ObservedGeneration < r.Generation {
		return inProgress("ReplicaSet generation %d is not observed yet (controller at %d)", r.Generation, r.Status.ObservedGeneration)
	}
	want := replicas(r.Spec.Replicas)
	st := r.Status
	var failure string
	for _, c := range st.Conditions {
		if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
			failure = "; " + c.Reason + ": " + c.Message
		}
	}
	switch {
	case st.ReadyReplicas < want:
		return inProgress("%d of %d replicas ready%s", st.ReadyReplicas, want, failure)
	case st.AvailableReplicas < want:
		return inProgress("%d of %d replicas available%s", st.AvailableReplicas, want, failure)
	}
	return current("ReplicaSet ready: %d replicas", want)
}
