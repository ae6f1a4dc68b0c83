package health

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// stuckReasons are container waiting reasons that do not resolve by waiting: the pod needs a
// new image, a fix of its configuration or of its program.
func stuckReason(reason string) bool {
	switch reason {
	case "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName",
		"CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError":
		return true
	}
	return false
}

func podHealth(p *corev1.Pod) Result {
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		return current("Pod completed")
	case corev1.PodFailed:
		return failed("Pod failed%s", reasonMessage(p.Status.Reason, p.Status.Message))
	}
	if msg, stuck := podStuck(p); stuck {
		return failed("%s", msg)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return inProgress("Pod not scheduled%s", reasonMessage(c.Reason, c.Message))
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			if c.Status == corev1.ConditionTrue {
				return current("Pod ready")
			}
			return inProgress("Pod %s, not ready%s", p.Status.Phase, reasonMessage(c.Reason, c.Message))
		}
	}
	return inProgress("Pod %s, not ready", p.Status.Phase)
}

// podStuck reports the first container of p that waits for a reason that does not resolve.
func podStuck(p *corev1.Pod) (string, bool) {
	for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range statuses {
			if w := cs.State.Waiting; w != nil && stuckReason(w.Reason) {
				msg := fmt.Sprintf("container %s waiting: %s", cs.Name, w.Reason)
				if w.Message != "" {
					msg += ": " + w.Message
				}
				if cs.Image != "" && !strings.Contains(msg, cs.Image) {
					msg += " (image " + cs.Image + ")"
				}
				return msg, true
			}
		}
	}
	return "", false
}

// reasonMessage renders ": reason: message", leaving out empty parts.
func reasonMessage(reason, message string) string {
	var parts []string
	for _, s := range []string{reason, message} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ": ")
}
