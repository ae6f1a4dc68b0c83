package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"unicode/utf8"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// yamlProblem is the first thing wrong with a YAML stream, with its 1-based line (0 when
// the parser gives none).
type yamlProblem struct {
	line int
	kind error
	msg  string
}

// isText reports whether data can be YAML at all: UTF-8 without NUL bytes. Binary files
// fail here rather than as a confusing parser error.
func isText(data []byte) bool {
	return utf8.Valid(data) && bytes.IndexByte(data, 0) < 0
}

var yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses every document of data with the parser kustomize uses and checks it for
// duplicate mapping keys, which that parser accepts silently (the later value wins in one
// place, the earlier in another). It returns the documents or the first problem.
func parseYAML(data []byte) ([]*kyaml.Node, *yamlProblem) {
	dec := kyaml.NewDecoder(bytes.NewReader(data))
	var docs []*kyaml.Node
	for {
		var n kyaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, syntaxProblem(err)
		}
		if p := duplicateKey(&n); p != nil {
			return nil, p
		}
		docs = append(docs, &n)
	}
}

func syntaxProblem(err error) *yamlProblem {
	msg := err.Error()
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &yamlProblem{line: line, kind: ErrMalformedYAML, msg: m[2]}
	}
	return &yamlProblem{kind: ErrMalformedYAML, msg: msg}
}

// duplicateKey finds the first mapping key that appears twice in the same mapping. Merge
// keys ("<<") may repeat and may be overridden, as YAML allows.
func duplicateKey(n *kyaml.Node) *yamlProblem {
	switch n.Kind {
	case kyaml.DocumentNode, kyaml.SequenceNode:
		for _, c := range n.Content {
			if p := duplicateKey(c); p != nil {
				return p
			}
		}
	case kyaml.MappingNode:
		seen := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == kyaml.ScalarNode && !(k.Value == "<<" && k.Style == 0) {
				if first, ok := seen[k.Value]; ok {
					return &yamlProblem{
						line: k.Line,
						kind: ErrDuplicateKey,
						msg:  fmt.Sprintf("mapping key %q already defined at line %d", k.Value, first),
					}
				}
				seen[k.Value] = k.Line
			}
			if p := duplicateKey(n.Content[i+1]); p != nil {
				return p
			}
		}
	}
	return nil
}

// scalarLine returns the line of the first scalar equal to value under n, or 0.
func scalarLine(n *kyaml.Node, value string) int {
	if n == nil {
		return 0
	}
	if n.Kind == kyaml.ScalarNode && n.Value == value {
		return n.Line
	}
	for _, c := range n.Content {
		if l := scalarLine(c, value); l > 0 {
			return l
		}
	}
	return 0
}

// keyLine returns the line of the top-level mapping key name in document doc, or 0.
func keyLine(doc *kyaml.Node, name string) int {
	if doc == nil {
		return 0
	}
	m := doc
	if m.Kind == kyaml.DocumentNode && len(m.Content) > 0 {
		m = m.Content[0]
	}
	if m.Kind != kyaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i].Line
		}
	}
	return 0
}
