package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// writeSchemas writes each schema to dir/<file name>, creating dir.
func writeSchemas(ctx context.Context, dir string, files map[string]map[string]any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the schema directory: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := json.Marshal(files[name])
		if err != nil {
			return fmt.Errorf("encode the schema %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write the schema: %w", err)
		}
	}
	return nil
}
