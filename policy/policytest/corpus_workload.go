package policytest

import "fmt"

// workload returns the application's Deployment, StatefulSet, Job or CronJob.
func (g *generator) workload(a application) map[string]any {
	template := map[string]any{
		"metadata": map[string]any{"labels": a.labels()},
		"spec":     g.podSpec(a),
	}
	obj := map[string]any{"apiVersion": "apps/v1", "kind": a.kind, "metadata": a.meta(a.name)}
	selector := map[string]any{"matchLabels": a.selector()}
	switch a.kind {
	case "Deployment":
		obj["spec"] = map[string]any{
			"replicas":             int64(2 + g.rnd.IntN(3)),
			"revisionHistoryLimit": int64(5),
			"selector":             selector,
			"strategy": map[string]any{
				"type":          "RollingUpdate",
				"rollingUpdate": map[string]any{"maxUnavailable": int64(0), "maxSurge": "25%"},
			},
			"template": template,
		}
	case "StatefulSet":
		obj["spec"] = map[string]any{
			"serviceName":         a.name,
			"replicas":            int64(3),
			"podManagementPolicy": "Parallel",
			"selector":            selector,
			"template":            template,
			"volumeClaimTemplates": []any{map[string]any{
				"metadata": map[string]any{"name": "data"},
				"spec": map[string]any{
					"accessModes": []any{"ReadWriteOnce"},
					"resources":   map[string]any{"requests": map[string]any{"storage": "20Gi"}},
				},
			}},
		}
	case "Job":
		obj["apiVersion"] = "batch/v1"
		obj["spec"] = map[string]any{
			"backoffLimit":            int64(2),
			"ttlSecondsAfterFinished": int64(3600),
			"template":                template,
		}
	default: // CronJob
		obj["apiVersion"] = "batch/v1"
		obj["spec"] = map[string]any{
			"schedule":                   fmt.Sprintf("%d * * * *", g.rnd.IntN(60)),
			"concurrencyPolicy":          "Forbid",
			"successfulJobsHistoryLimit": int64(3),
			"jobTemplate": map[string]any{"spec": map[string]any{
				"backoffLimit": int64(1),
				"template":     template,
			}},
		}
	}
	return obj
}

// longRunning is true for workloads that serve traffic: they have ports, probes and sidecars.
func (a application) longRunning() bool { return a.kind == "Deployment" || a.kind == "StatefulSet" }

func (g *generator) podSpec(a application) map[string]any {
	containers := []any{g.appContainer(a)}
	if a.longRunning() && g.chance(4) {
		containers = append(containers, g.proxyContainer())
	}
	volumes := []any{
		map[string]any{"name": "config", "configMap": map[string]any{"name": a.name}},
		map[string]any{"name": "tmp", "emptyDir": map[string]any{"sizeLimit": "64Mi"}},
	}
	if a.kind != "Job" {
		volumes = append(volumes, map[string]any{"name": "db", "secret": map[string]any{"secretName": a.name + "-db"}})
	}
	if g.chance(100) {
		// A log shipper reading the node's logs: the host-access policy denies it.
		volumes = append(volumes, map[string]any{"name": "varlog", "hostPath": map[string]any{"path": "/var/log", "type": "Directory"}})
	}
	spec := map[string]any{
		"serviceAccountName":            a.name,
		"automountServiceAccountToken":  false,
		"terminationGracePeriodSeconds": int64(30),
		"containers":                    containers,
		"volumes":                       volumes,
	}
	security := map[string]any{
		"runAsUser":      int64(10001),
		"runAsGroup":     int64(10001),
		"fsGroup":        int64(10001),
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}
	if !g.chance(15) {
		security["runAsNonRoot"] = true
	}
	spec["securityContext"] = security
	switch a.kind {
	case "Job":
		spec["restartPolicy"] = "Never"
	case "CronJob":
		spec["restartPolicy"] = "OnFailure"
	default:
		if g.chance(3) {
			spec["initContainers"] = []any{g.migrateContainer(a)}
		}
		spec["affinity"] = map[string]any{"podAntiAffinity": map[string]any{
			"preferredDuringSchedulingIgnoredDuringExecution": []any{map[string]any{
				"weight": int64(100),
				"podAffinityTerm": map[string]any{
					"topologyKey":   "kubernetes.io/hostname",
					"labelSelector": map[string]any{"matchLabels": a.selector()},
				},
			}},
		}}
	}
	return spec
}

func (g *generator) appContainer(a application) map[string]any {
	image := fmt.Sprintf("registry.example.com/shop/%s:1.%d.%d", a.name, g.rnd.IntN(30), g.rnd.IntN(10))
	if g.chance(30) {
		// An image without tag (the port is no tag): the image-tag policy denies it.
		image = "registry.example.com:5000/shop/" + a.name
	}
	env := []any{
		map[string]any{"name": "LOG_LEVEL", "value": "info"},
		map[string]any{"name": "LOG_FORMAT", "value": "json"},
		map[string]any{"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.observability:4317"},
		map[string]any{"name": "DB_HOST", "value": a.name + "-db." + a.ns + ".svc"},
		map[string]any{"name": "DB_PASSWORD_FILE", "value": "/etc/db/password"},
		map[string]any{"name": "POD_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}},
		map[string]any{"name": "MEMORY_LIMIT", "valueFrom": map[string]any{"resourceFieldRef": map[string]any{"resource": "limits.memory"}}},
	}
	if g.chance(5) {
		// The secret-env-ref policy warns: mount the Secret as files instead.
		env = append(env, map[string]any{"name": "API_TOKEN", "valueFrom": map[string]any{
			"secretKeyRef": map[string]any{"name": a.name + "-db", "key": "token"},
		}})
	}
	if g.chance(40) {
		// A literal password: the no-secret-env policy denies it.
		env = append(env, map[string]any{"name": "DB_PASSWORD", "value": fmt.Sprintf("p4ss-%06d", g.rnd.IntN(1_000_000))})
	}
	mounts := []any{
		map[string]any{"name": "config", "mountPath": "/etc/app", "readOnly": true},
		map[string]any{"name": "tmp", "mountPath": "/tmp"},
	}
	if a.kind != "Job" {
		mounts = append(mounts, map[string]any{"name": "db", "mountPath": "/etc/db", "readOnly": true})
	}
	security := restrictedContainer()
	if g.chance(80) {
		// A debugging leftover: the security-context policy denies it.
		security["privileged"] = true
		security["allowPrivilegeEscalation"] = true
	}
	c := map[string]any{
		"name":            "app",
		"image":           image,
		"imagePullPolicy": "IfNotPresent",
		"env":             env,
		"envFrom":         []any{map[string]any{"configMapRef": map[string]any{"name": a.name}}},
		"resources": map[string]any{
			"requests": map[string]any{"cpu": fmt.Sprintf("%dm", 50*(1+g.rnd.IntN(8))), "memory": "256Mi"},
			"limits":   map[string]any{"memory": "512Mi"},
		},
		"securityContext": security,
		"volumeMounts":    mounts,
	}
	if a.longRunning() {
		c["ports"] = []any{
			map[string]any{"name": "http", "containerPort": int64(8080), "protocol": "TCP"},
			map[string]any{"name": "metrics", "containerPort": int64(9090), "protocol": "TCP"},
		}
		c["readinessProbe"] = map[string]any{
			"httpGet":       map[string]any{"path": "/ready", "port": "http"},
			"periodSeconds": int64(5),
		}
		c["livenessProbe"] = map[string]any{
			"httpGet":             map[string]any{"path": "/healthz", "port": "http"},
			"initialDelaySeconds": int64(10),
			"failureThreshold":    int64(3),
		}
	}
	return c
}

// proxyContainer is a service-mesh sidecar. Sidecars are where policies find the most: it has
// no probes (a warning), and one in three has no memory limit (a denial).
func (g *generator) proxyContainer() map[string]any {
	resources := map[string]any{"requests": map[string]any{"cpu": "50m", "memory": "64Mi"}}
	if !g.chance(3) {
		resources["limits"] = map[string]any{"memory": "128Mi"}
	}
	return map[string]any{
		"name":            "proxy",
		"image":           "docker.io/envoyproxy/envoy:v1.31.2",
		"args":            []any{"--config-path", "/etc/envoy/envoy.yaml", "--log-level", "warn"},
		"ports":           []any{map[string]any{"name": "envoy-admin", "containerPort": int64(9901)}},
		"resources":       resources,
		"securityContext": restrictedContainer(),
	}
}

func (g *generator) migrateContainer(a application) map[string]any {
	return map[string]any{
		"name":    "migrate",
		"image":   fmt.Sprintf("registry.example.com/shop/%s-migrate:2.%d.0", a.name, g.rnd.IntN(5)),
		"command": []any{"/migrate", "up"},
		"env": []any{
			map[string]any{"name": "DB_HOST", "value": a.name + "-db." + a.ns + ".svc"},
			map[string]any{"name": "DB_PASSWORD_FILE", "value": "/etc/db/password"},
		},
		"resources": map[string]any{
			"requests": map[string]any{"cpu": "100m", "memory": "64Mi"},
			"limits":   map[string]any{"memory": "64Mi"},
		},
		"securityContext": restrictedContainer(),
		"volumeMounts":    []any{map[string]any{"name": "db", "mountPath": "/etc/db", "readOnly": true}},
	}
}

func restrictedContainer() map[string]any {
	return map[string]any{
		"allowPrivilegeEscalation": false,
		"readOnlyRootFilesystem":   true,
		"capabilities":             map[string]any{"drop": []any{"ALL"}},
	}
}
