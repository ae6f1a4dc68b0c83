package policytest_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/gitops-agent/gitops-agent/policy/policytest"
	"github.com/gitops-agent/gitops-agent/render"
)

func TestWriteYAMLRoundTrip(t *testing.T) {
	objs := policytest.Corpus(300)
	var buf bytes.Buffer
	if err := policytest.WriteYAML(&buf, objs); err != nil {
		t.Fatal(err)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(&buf))
	var got []map[string]any
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := utilyaml.ToJSON(doc)
		if err != nil {
			t.Fatalf("document %d: %v", len(got)+1, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			t.Fatalf("document %d: %v", len(got)+1, err)
		}
		got = append(got, u.Object)
	}
	want := make([]map[string]any, len(objs))
	for i, o := range objs {
		want[i] = o.Obj.Object
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects read back differ (-written +read):\n%s", diff)
	}
}

func TestWriteYAMLRejectsEmptyObjects(t *testing.T) {
	objs := []render.Object{policytest.Corpus(1)[0], {Source: "apps/empty.yaml"}}
	err := policytest.WriteYAML(io.Discard, objs)
	if err == nil || !strings.Contains(err.Error(), "object 1 (apps/empty.yaml) is empty") {
		t.Errorf("WriteYAML error = %v, want one naming object 1 and its file", err)
	}
}

func ExampleWriteYAML() {
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": "settings", "namespace": "shop"},
		"data":       map[string]any{"LOG_LEVEL": "info"},
	}}
	sa := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ServiceAccount",
		"metadata":   map[string]any{"name": "api", "namespace": "shop"},
	}}
	if err := policytest.WriteYAML(os.Stdout, []render.Object{{Obj: cm}, {Obj: sa}}); err != nil {
		panic(err)
	}
	// Output:
	// apiVersion: v1
	// data:
	//   LOG_LEVEL: info
	// kind: ConfigMap
	// metadata:
	//   name: settings
	//   namespace: shop
	// ---
	// apiVersion: v1
	// kind: ServiceAccount
	// metadata:
	//   name: api
	//   namespace: shop
}
