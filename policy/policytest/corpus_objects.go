package policytest

import (
	"encoding/base64"
	"fmt"
)

// service selects the application's pods; headless for a StatefulSet. One in twelve points
// its metrics port at a port no container declares (the service-port-matches policy warns).
func (g *generator) service(a application, headless bool) map[string]any {
	metricsPort := int64(9090)
	if g.chance(12) {
		metricsPort = 9091
	}
	spec := map[string]any{
		"type":     "ClusterIP",
		"selector": a.selector(),
		"ports": []any{
			map[string]any{"name": "http", "port": int64(80), "targetPort": "http", "protocol": "TCP"},
			map[string]any{"name": "metrics", "port": int64(9090), "targetPort": metricsPort, "protocol": "TCP"},
		},
	}
	if headless {
		spec["clusterIP"] = "None"
		spec["publishNotReadyAddresses"] = true
	}
	return map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": a.meta(a.name), "spec": spec}
}

// configMap holds the application's settings; one in thirty has a literal password in its
// properties file (the secret-in-configmap policy denies it).
func (g *generator) configMap(a application) map[string]any {
	props := fmt.Sprintf("server.port=8080\n"+
		"management.server.port=9090\n"+
		"spring.datasource.url=jdbc:postgresql://%s-db.%s.svc:5432/app\n"+
		"spring.datasource.username=app\n"+
		"spring.datasource.password=${DB_PASSWORD}\n"+
		"spring.jpa.open-in-view=false\n"+
		"logging.level.root=INFO\n", a.name, a.ns)
	if g.chance(30) {
		props += "spring.mail.password=changeme\n"
	}
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   a.meta(a.name),
		"data": map[string]any{
			"FEATURE_FLAGS":          "checkout-v2,search-v3",
			"CACHE_TTL":              "300s",
			"application.properties": props,
		},
	}
}

func secret(a application) map[string]any {
	b64 := base64.StdEncoding.EncodeToString
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   a.meta(a.name + "-db"),
		"type":       "Opaque",
		"data": map[string]any{
			"username": b64([]byte("app")),
			"password": b64([]byte("not-a-real-password-" + a.name)),
			"token":    b64([]byte("not-a-real-token-" + a.name)),
		},
	}
}

func serviceAccount(a application) map[string]any {
	return map[string]any{
		"apiVersion":                   "v1",
		"kind":                         "ServiceAccount",
		"metadata":                     a.meta(a.name),
		"automountServiceAccountToken": false,
	}
}

func ingress(a application) map[string]any {
	host := a.name + ".shop.example.com"
	return map[string]any{
		"apiVersion": "networking.k8s.io/v1",
		"kind":       "Ingress",
		"metadata":   a.meta(a.name),
		"spec": map[string]any{
			"ingressClassName": "nginx",
			"tls":              []any{map[string]any{"hosts": []any{host}, "secretName": a.name + "-tls"}},
			"rules": []any{map[string]any{
				"host": host,
				"http": map[string]any{"paths": []any{map[string]any{
					"path":     "/",
					"pathType": "Prefix",
					"backend": map[string]any{"service": map[string]any{
						"name": a.name,
						"port": map[string]any{"name": "http"},
					}},
				}}},
			}},
		},
	}
}

func hpa(a application) map[string]any {
	return map[string]any{
		"apiVersion": "autoscaling/v2",
		"kind":       "HorizontalPodAutoscaler",
		"metadata":   a.meta(a.name),
		"spec": map[string]any{
			"scaleTargetRef": map[string]any{"apiVersion": "apps/v1", "kind": a.kind, "name": a.name},
			"minReplicas":    int64(2),
			"maxReplicas":    int64(10),
			"metrics": []any{map[string]any{
				"type": "Resource",
				"resource": map[string]any{
					"name":   "cpu",
					"target": map[string]any{"type": "Utilization", "averageUtilization": int64(70)},
				},
			}},
		},
	}
}

func pdb(a application) map[string]any {
	return map[string]any{
		"apiVersion": "policy/v1",
		"kind":       "PodDisruptionBudget",
		"metadata":   a.meta(a.name),
		"spec": map[string]any{
			"maxUnavailable": int64(1),
			"selector":       map[string]any{"matchLabels": a.selector()},
		},
	}
}
