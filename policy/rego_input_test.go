package policy

import (
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestRegoValueOfAgreesWithOPA checks the input conversion against OPA's own on the corpus and
// on values of every JSON type, decoded the ways manifests are (numbers as int64, float64 or
// json.Number).
func TestRegoValueOfAgreesWithOPA(t *testing.T) {
	var docs []any
	for _, o := range mixedCorpus(200) {
		docs = append(docs, o.Obj.Object)
	}
	docs = append(docs,
		map[string]any{},
		[]any{},
		map[string]any{"a": nil, "b": true, "c": false, "d": int64(-3), "e": 2.5, "f": json.Number("1e3"), "g": "", "kind": "Pod"},
		[]any{"x", int64(1), []any{map[string]any{"name": "app.kubernetes.io/name"}}, map[string]string{"k": "v"}, []string{"s"}},
		map[string]any{"many": map[string]any{"k01": 1, "k02": 2, "k03": 3, "k04": 4, "k05": 5, "k06": 6, "k07": 7, "k08": 8, "k09": 9, "k10": 10, "k11": 11, "k12": 12, "k13": 13, "k14": 14, "k15": 15, "k16": 16, "k17": 17, "k18": 18}},
	)
	for i, doc := range docs {
		want, err := ast.InterfaceToValue(doc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := regoValueOf(doc)
		if err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if got.Compare(want) != 0 || got.Hash() != want.Hash() {
			t.Errorf("document %d: got %v, want %v", i, got, want)
		}
	}
}

func TestRegoValueOfRejectsWhatOPARejects(t *testing.T) {
	if _, err := regoValueOf(map[string]any{"f": func() {}}); err == nil {
		t.Error("converted a func; want an error")
	}
}
