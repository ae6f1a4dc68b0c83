package policy

import (
	"fmt"
	"math/rand/v2"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-agent/gitops-agent/render"
)

// mixedCorpus generates n objects shaped like a real environment: applications made of a
// Deployment or StatefulSet with its Service, ConfigMap, Secret, ServiceAccount, Ingress,
// HorizontalPodAutoscaler and PodDisruptionBudget, plus Jobs and CronJobs, spread over
// namespaces. Some objects break rules, as in real repositories. It is deterministic.
func mixedCorpus(n int) []render.Object {
	rnd := rand.New(rand.NewPCG(1, 2))
	var out []render.Object
	add := func(obj map[string]any) {
		if len(out) < n {
			out = append(out, render.Object{Obj: &unstructured.Unstructured{Object: obj}, Source: fmt.Sprintf("manifests/app%d.yaml", len(out)/8)})
		}
	}
	for app := 0; len(out) < n; app++ {
		ns := fmt.Sprintf("team-%d", app%40)
		name := fmt.Sprintf("app-%d", app)
		labels := map[string]any{"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop"}
		kind := "Deployment"
		switch app % 10 {
		case 7:
			kind = "StatefulSet"
		case 8:
			kind = "Job"
		case 9:
			kind = "CronJob"
		}
		podSpec := corpusPodSpec(rnd, name)
		template := map[string]any{"metadata": map[string]any{"labels": labels}, "spec": podSpec}
		workload := map[string]any{
			"apiVersion": "apps/v1",
			"kind":       kind,
			"metadata":   corpusMeta(name, ns, labels),
			"spec": map[string]any{
				"replicas": int64(3),
				"selector": map[string]any{"matchLabels": labels},
				"template": template,
			},
		}
		switch kind {
		case "Job":
			workload["apiVersion"] = "batch/v1"
			podSpec["restartPolicy"] = "Never"
			workload["spec"] = map[string]any{"backoffLimit": int64(2), "template": template}
		case "CronJob":
			workload["apiVersion"] = "batch/v1"
			podSpec["restartPolicy"] = "OnFailure"
			workload["spec"] = map[string]any{"schedule": "*/5 * * * *", "jobTemplate": map[string]any{"spec": map[string]any{"template": template}}}
		}
		add(workload)
		if kind == "Job" || kind == "CronJob" {
			add(corpusConfigMap(rnd, name, ns, labels))
			continue
		}
		add(map[string]any{
			"apiVersion": "v1",
			"kind":       "Service",
			"metadata":   corpusMeta(name, ns, labels),
			"spec": map[string]any{
				"selector": labels,
				"ports": []any{
					map[string]any{"name": "http", "port": int64(80), "targetPort": "http"},
					map[string]any{"name": "metrics", "port": int64(9090), "targetPort": int64(corpusMetricsPort(rnd))},
				},
			},
		})
		add(corpusConfigMap(rnd, name, ns, labels))
		add(map[string]any{
			"apiVersion": "v1",
			"kind":       "Secret",
			"metadata":   corpusMeta(name+"-db", ns, labels),
			"type":       "Opaque",
			"data":       map[string]any{"password": "aHVudGVyMg==", "username": "YXBw"},
		})
		add(map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": corpusMeta(name, ns, labels)})
		add(map[string]any{
			"apiVersion": "networking.k8s.io/v1",
			"kind":       "Ingress",
			"metadata":   corpusMeta(name, ns, labels),
			"spec": map[string]any{"rules": []any{map[string]any{
				"host": name + ".example.com",
				"http": map[string]any{"paths": []any{map[string]any{
					"path": "/", "pathType": "Prefix",
					"backend": map[string]any{"service": map[string]any{"name": name, "port": map[string]any{"name": "http"}}},
				}}},
			}}},
		})
		add(map[string]any{
			"apiVersion": "autoscaling/v2",
			"kind":       "HorizontalPodAutoscaler",
			"metadata":   corpusMeta(name, ns, labels),
			"spec": map[string]any{
				"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": kind, "name": name},
				"minReplicas":    int64(2), "maxReplicas": int64(10),
			},
		})
		add(map[string]any{
			"apiVersion": "policy/v1",
			"kind":       "PodDisruptionBudget",
			"metadata":   corpusMeta(name, ns, labels),
			"spec":       map[string]any{"minAvailable": int64(1), "selector": map[string]any{"matchLabels": labels}},
		})
	}
	return out
}

func corpusMeta(name, ns string, labels map[string]any) map[string]any {
	return map[string]any{"name": name, "namespace": ns, "labels": labels}
}

func corpusPodSpec(rnd *rand.Rand, name string) map[string]any {
	env := []any{
		map[string]any{"name": "LOG_LEVEL", "value": "info"},
		map[string]any{"name": "HTTP_PORT", "value": "8080"},
		map[string]any{"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.observability:4317"},
		map[string]any{"name": "DB_HOST", "value": name + "-db"},
		map[string]any{"name": "DB_PASSWORD_FILE", "value": "/etc/db/password"},
		map[string]any{"name": "POD_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}},
	}
	if rnd.IntN(5) == 0 {
		env = append(env, map[string]any{"name": "API_TOKEN", "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": name, "key": "token"}}})
	}
	if rnd.IntN(20) == 0 {
		env = append(env, map[string]any{"name": "DB_PASSWORD", "value": "hunter2"})
	}
	image := fmt.Sprintf("registry.example.com:5000/shop/%s:1.%d.0", name, rnd.IntN(30))
	if rnd.IntN(15) == 0 {
		image = "registry.example.com:5000/shop/" + name
	}
	container := map[string]any{
		"name":  "app",
		"image": image,
		"ports": []any{
			map[string]any{"name": "http", "containerPort": int64(8080)},
			map[string]any{"name": "metrics", "containerPort": int64(9090)},
		},
		"env": env,
		"resources": map[string]any{
			"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
			"limits":   map[string]any{"memory": "256Mi"},
		},
		"readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/ready", "port": "http"}},
		"livenessProbe":  map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": "http"}},
		"securityContext": map[string]any{
			"allowPrivilegeEscalation": false,
			"readOnlyRootFilesystem":   true,
			"capabilities":             map[string]any{"drop": []any{"ALL"}},
		},
		"volumeMounts": []any{
			map[string]any{"name": "config", "mountPath": "/etc/app"},
			map[string]any{"name": "db", "mountPath": "/etc/db", "readOnly": true},
		},
	}
	containers := []any{container}
	if rnd.IntN(4) == 0 {
		containers = append(containers, map[string]any{
			"name":  "proxy",
			"image": "envoyproxy/envoy:v1.31.0",
			"args":  []any{"--config-path", "/etc/envoy/envoy.yaml"},
			"resources": map[string]any{
				"requests": map[string]any{"cpu": "50m", "memory": "64Mi"},
			},
		})
	}
	spec := map[string]any{
		"serviceAccountName": name,
		"securityContext":    map[string]any{"runAsNonRoot": true, "runAsUser": int64(10001), "fsGroup": int64(10001)},
		"containers":         containers,
		"volumes": []any{
			map[string]any{"name": "config", "configMap": map[string]any{"name": name}},
			map[string]any{"name": "db", "secret": map[string]any{"secretName": name + "-db"}},
		},
	}
	if rnd.IntN(3) == 0 {
		spec["initContainers"] = []any{map[string]any{
			"name":      "migrate",
			"image":     fmt.Sprintf("registry.example.com:5000/shop/%s-migrate:1.0.0", name),
			"command":   []any{"/migrate", "up"},
			"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "64Mi"}, "limits": map[string]any{"memory": "64Mi"}},
		}}
	}
	return spec
}

func corpusConfigMap(rnd *rand.Rand, name, ns string, labels map[string]any) map[string]any {
	props := "server.port=8080\nmanagement.port=9090\nspring.datasource.url=jdbc:postgresql://" + name + "-db/app\nspring.datasource.username=app\nspring.datasource.password=${DB_PASSWORD}\nlogging.level.root=INFO\n"
	if rnd.IntN(25) == 0 {
		props += "spring.mail.password=changeme\n"
	}
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   corpusMeta(name, ns, labels),
		"data": map[string]any{
			"LOG_FORMAT":             "json",
			"FEATURE_FLAGS":          "checkout-v2,search-v3",
			"application.properties": props,
		},
	}
}

// corpusMetricsPort is the metrics Service's targetPort: one Service in ten points at a port
// its workload does not declare.
func corpusMetricsPort(rnd *rand.Rand) int {
	if rnd.IntN(10) == 0 {
		return 9091
	}
	return 9090
}
