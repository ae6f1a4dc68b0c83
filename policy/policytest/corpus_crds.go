package policytest

import "fmt"

// crdGroup is the API group of the corpus's custom resources.
const crdGroup = "platform.example.com"

// quantityPattern is the pattern controller-gen gives resource.Quantity fields.
const quantityPattern = `^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$`

// crd returns a CustomResourceDefinition of one served and stored version, v1, whose schema
// has the top-level fields controller-gen writes around spec.
func crd(kind, plural string, spec map[string]any, printerColumns []any) map[string]any {
	return map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": plural + "." + crdGroup},
		"spec": map[string]any{
			"group": crdGroup,
			"names": map[string]any{
				"kind":     kind,
				"listKind": kind + "List",
				"plural":   plural,
				"singular": plural[:len(plural)-1],
			},
			"scope": "Namespaced",
			"versions": []any{map[string]any{
				"name":                     "v1",
				"served":                   true,
				"storage":                  true,
				"subresources":             map[string]any{"status": map[string]any{}},
				"additionalPrinterColumns": printerColumns,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type":     "object",
					"required": []any{"spec"},
					"properties": map[string]any{
						"apiVersion": map[string]any{"type": "string"},
						"kind":       map[string]any{"type": "string"},
						"metadata":   map[string]any{"type": "object"},
						"spec":       spec,
						"status":     map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
					},
				}},
			}},
		},
	}
}

func databaseCRD() map[string]any {
	spec := map[string]any{
		"type":     "object",
		"required": []any{"engine", "version", "storage"},
		"x-kubernetes-validations": []any{map[string]any{
			"rule":    "self.engine != 'mysql' || self.replicas <= 3",
			"message": "mysql databases have at most 3 replicas",
		}},
		"properties": map[string]any{
			"engine":   map[string]any{"type": "string", "enum": []any{"postgres", "mysql"}},
			"version":  map[string]any{"type": "string", "pattern": `^[0-9]+(\.[0-9]+)*$`},
			"replicas": map[string]any{"type": "integer", "format": "int32", "minimum": int64(1), "maximum": int64(5), "default": int64(1)},
			"storage": map[string]any{
				"anyOf":                      []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}},
				"pattern":                    quantityPattern,
				"x-kubernetes-int-or-string": true,
			},
			"backup": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"schedule":      map[string]any{"type": "string"},
					"retentionDays": map[string]any{"type": "integer", "minimum": int64(1)},
				},
			},
			"parameters": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
		},
	}
	return crd("Database", "databases", spec, []any{
		map[string]any{"name": "Engine", "type": "string", "jsonPath": ".spec.engine"},
		map[string]any{"name": "Version", "type": "string", "jsonPath": ".spec.version"},
	})
}

func featureFlagCRD() map[string]any {
	spec := map[string]any{
		"type":     "object",
		"required": []any{"enabled"},
		"properties": map[string]any{
			"enabled": map[string]any{"type": "boolean"},
			"rollout": map[string]any{"type": "integer", "minimum": int64(0), "maximum": int64(100)},
			"owner":   map[string]any{"type": "string"},
			"variants": map[string]any{
				"type":                       "array",
				"x-kubernetes-list-type":     "map",
				"x-kubernetes-list-map-keys": []any{"name"},
				"items": map[string]any{
					"type":     "object",
					"required": []any{"name"},
					"properties": map[string]any{
						"name":   map[string]any{"type": "string"},
						"weight": map[string]any{"type": "integer", "minimum": int64(0)},
					},
				},
			},
		},
	}
	return crd("FeatureFlag", "featureflags", spec, []any{
		map[string]any{"name": "Enabled", "type": "boolean", "jsonPath": ".spec.enabled"},
	})
}

func database(a application, i int) map[string]any {
	engine, version := "postgres", fmt.Sprintf("16.%d", i%5)
	if i%3 == 0 {
		engine, version = "mysql", "8.4"
	}
	return map[string]any{
		"apiVersion": crdGroup + "/v1",
		"kind":       "Database",
		"metadata":   a.meta(a.name + "-db"),
		"spec": map[string]any{
			"engine":     engine,
			"version":    version,
			"replicas":   int64(3),
			"storage":    "50Gi",
			"backup":     map[string]any{"schedule": "0 3 * * *", "retentionDays": int64(14)},
			"parameters": map[string]any{"max_connections": "200"},
		},
	}
}

func featureFlag(a application, i int) map[string]any {
	return map[string]any{
		"apiVersion": crdGroup + "/v1",
		"kind":       "FeatureFlag",
		"metadata":   a.meta(a.name + "-new-ui"),
		"spec": map[string]any{
			"enabled": i%20 == 0,
			"rollout": int64(i % 101),
			"owner":   a.ns,
			"variants": []any{
				map[string]any{"name": "control", "weight": int64(50)},
				map[string]any{"name": "treatment", "weight": int64(50)},
			},
		},
	}
}
