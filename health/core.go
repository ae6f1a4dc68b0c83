package health

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

func pvcHealth(p *corev1.PersistentVolumeClaim) Result {
	switch p.Status.Phase {
	case corev1.ClaimBound:
		return current("PersistentVolumeClaim bound to volume %s", p.Spec.VolumeName)
	case corev1.ClaimLost:
		return failed("PersistentVolumeClaim lost its volume %s", p.Spec.VolumeName)
	}
	return inProgress("PersistentVolumeClaim %s, waiting for a volume", orDefault(string(p.Status.Phase), "Pending"))
}

func serviceHealth(s *corev1.Service, opts Options) Result {
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer || !opts.WaitForLoadBalancer {
		return current("Service ready")
	}
	var addrs []string
	for _, in := range s.Status.LoadBalancer.Ingress {
		addrs = append(addrs, orDefault(in.IP, in.Hostname))
	}
	if len(addrs) == 0 {
		return inProgress("waiting for the load balancer's address")
	}
	return current("load balancer at %s", strings.Join(addrs, ", "))
}

func namespaceHealth(n *corev1.Namespace) Result {
	if n.Status.Phase == corev1.NamespaceActive || n.Status.Phase == "" {
		return current("Namespace active")
	}
	return Result{Status: Terminating, Message: "Namespace " + string(n.Status.Phase)}
}

func crdHealth(c *apiextensionsv1.CustomResourceDefinition) Result {
	for _, cond := range c.Status.Conditions {
		if cond.Type == apiextensionsv1.NamesAccepted && cond.Status == apiextensionsv1.ConditionFalse {
			return failed("names not accepted%s", reasonMessage(cond.Reason, cond.Message))
		}
	}
	for _, cond := range c.Status.Conditions {
		if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
			return current("CustomResourceDefinition established")
		}
	}
	return inProgress("CustomResourceDefinition not established yet")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
