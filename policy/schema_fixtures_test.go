package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/gitops-agent/gitops-agent/render"
)

// schemaTestdata is the folder of the schema check's fixtures.
const schemaTestdata = "testdata/schema"

// readObjects reads the objects of a multi-document YAML fixture under testdata/schema.
func readObjects(t testing.TB, name string) []render.Object {
	t.Helper()
	path := filepath.Join(schemaTestdata, name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var objs []render.Object
	reader := utilyaml.NewYAMLReader(bufio.NewReader(f))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		data, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			// Fixtures without apiVersion or kind cannot go through the decoder.
			u.Object = map[string]any{}
			if err := yaml.Unmarshal(doc, &u.Object); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		objs = append(objs, render.Object{Obj: u, Source: filepath.ToSlash(path)})
	}
}

// formatFindings renders findings one per line, for golden files and failure messages.
func formatFindings(findings []Finding) string {
	var b strings.Builder
	for _, f := range findings {
		fmt.Fprintf(&b, "%s %s %s [%s] %s\n    %s\n", f.Severity, f.Rule, f.Object, f.Field, f.Source, f.Message)
	}
	return b.String()
}
