package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// regoValueOf converts an object's content (decoded JSON: maps, slices, strings, numbers,
// booleans, nil) to a Rego value, as ast.InterfaceToValue does, with fewer allocations: the
// field names and values that recur in every manifest (regoFieldNames) share one Rego string, and
// the terms of an object or array are allocated together. Any other Go type is left to
// ast.InterfaceToValue.
func regoValueOf(x any) (ast.Value, error) {
	switch x := x.(type) {
	case string:
		return regoString(x), nil
	case map[string]any:
		terms := make([]ast.Term, 2*len(x))
		var buf [16][2]*ast.Term
		items := buf[:0]
		i := 0
		for k, v := range x {
			value, err := regoValueOf(v)
			if err != nil {
				return nil, err
			}
			terms[i].Value, terms[i+1].Value = regoString(k), value
			items = append(items, [2]*ast.Term{&terms[i], &terms[i+1]})
			i += 2
		}
		return ast.NewObject(items...), nil
	case []any:
		terms := make([]ast.Term, len(x))
		ptrs := make([]*ast.Term, len(x))
		for i, v := range x {
			value, err := regoValueOf(v)
			if err != nil {
				return nil, err
			}
			terms[i].Value = value
			ptrs[i] = &terms[i]
		}
		return ast.NewArray(ptrs...), nil
	default:
		return ast.InterfaceToValue(x)
	}
}

func regoString(s string) ast.Value {
	if v, ok := regoFieldNames[s]; ok {
		return v
	}
	return ast.String(s)
}

// regoFieldNames are the field names, and a few values, that recur in Kubernetes manifests, each
// as a Rego string made once; the table is never written after initialisation.
var regoFieldNames = func() map[string]ast.Value {
	names := []string{
		// Every object.
		"apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations", "spec", "status",
		"generateName", "uid", "resourceVersion", "generation", "creationTimestamp", "ownerReferences",
		"finalizers", "managedFields", "data", "stringData", "binaryData", "type", "items",
		// Workloads and pod templates.
		"replicas", "selector", "matchLabels", "matchExpressions", "key", "operator", "values",
		"template", "jobTemplate", "schedule", "strategy", "rollingUpdate", "maxSurge", "maxUnavailable",
		"revisionHistoryLimit", "minReadySeconds", "serviceName", "podManagementPolicy",
		"updateStrategy", "volumeClaimTemplates", "backoffLimit", "completions", "parallelism",
		"ttlSecondsAfterFinished", "concurrencyPolicy", "successfulJobsHistoryLimit",
		"failedJobsHistoryLimit", "restartPolicy", "serviceAccountName", "serviceAccount",
		"automountServiceAccountToken", "securityContext", "runAsNonRoot", "runAsUser", "runAsGroup",
		"fsGroup", "seccompProfile", "allowPrivilegeEscalation", "privileged", "readOnlyRootFilesystem",
		"capabilities", "drop", "add", "hostNetwork", "hostPID", "hostIPC", "nodeSelector",
		"affinity", "tolerations", "effect", "topologySpreadConstraints", "priorityClassName",
		"terminationGracePeriodSeconds", "dnsPolicy", "imagePullSecrets", "initContainers",
		"containers", "image", "imagePullPolicy", "command", "args", "workingDir", "ports",
		"containerPort", "protocol", "env", "value", "valueFrom", "secretKeyRef", "configMapKeyRef",
		"fieldRef", "fieldPath", "resourceFieldRef", "envFrom", "secretRef", "configMapRef", "prefix",
		"optional", "resources", "requests", "limits", "cpu", "memory", "ephemeral-storage",
		"readinessProbe", "livenessProbe", "startupProbe", "httpGet", "tcpSocket", "exec", "grpc",
		"path", "port", "scheme", "initialDelaySeconds", "periodSeconds", "timeoutSeconds",
		"failureThreshold", "successThreshold", "lifecycle", "preStop", "postStart",
		"volumeMounts", "mountPath", "subPath", "readOnly", "volumes", "configMap", "secret",
		"secretName", "emptyDir", "persistentVolumeClaim", "claimName", "hostPath", "projected",
		"sources", "defaultMode",
		// Services, ingresses and the like.
		"targetPort", "nodePort", "clusterIP", "externalName", "sessionAffinity", "rules", "host",
		"http", "paths", "pathType", "backend", "service", "number", "tls", "hosts",
		"ingressClassName", "scaleTargetRef", "minReplicas", "maxReplicas", "metrics", "target",
		"minAvailable",
		// Common values.
		"v1", "apps/v1", "batch/v1", "TCP", "UDP", "ClusterIP", "Always", "IfNotPresent", "Never",
		"OnFailure", "Opaque", "ALL", "Prefix", "Exact", "RuntimeDefault",
		"app", "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/part-of",
		"app.kubernetes.io/component", "app.kubernetes.io/version", "app.kubernetes.io/managed-by",
	}
	out := make(map[string]ast.Value, len(names))
	for _, n := range names {
		out[n] = ast.String(n)
	}
	return out
}()
