package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
)

// gvkExtension lists the group, version and kind of a definition that is an API kind.
const gvkExtension = "x-kubernetes-group-version-kind"

// readSpec reads the component schemas of every .json file of the OpenAPI v3 spec in dir (one
// file per API group version), by definition name. The files repeat the definitions they share
// (ObjectMeta, ...); a definition that two files give differently is an error, except for the
// kinds listed on the meta types that every group version serves (DeleteOptions, WatchEvent).
func readSpec(ctx context.Context, dir string) (map[string]map[string]any, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list the spec files of %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds no .json files; pass the api/openapi-spec/v3 directory of the k8s.io/kubernetes module", dir)
	}
	defs := map[string]map[string]any{}
	from := map[string]string{} // definition name → the file it was first read from
	for _, file := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		schemas, err := readSpecFile(file)
		if err != nil {
			return nil, err
		}
		for _, name := range slices.Sorted(maps.Keys(schemas)) {
			s := schemas[name]
			prev, seen := defs[name]
			if !seen {
				defs[name], from[name] = s, file
				continue
			}
			if !reflect.DeepEqual(withoutKinds(prev), withoutKinds(s)) {
				return nil, fmt.Errorf("definition %s differs between %s and %s; the spec is inconsistent, regenerate it from one Kubernetes version", name, from[name], file)
			}
		}
	}
	return defs, nil
}

func readSpecFile(file string) (map[string]map[string]any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read the OpenAPI spec: %w", err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse the OpenAPI spec %s: %w", file, err)
	}
	return doc.Components.Schemas, nil
}

func withoutKinds(s map[string]any) map[string]any {
	out := maps.Clone(s)
	delete(out, gvkExtension)
	return out
}
