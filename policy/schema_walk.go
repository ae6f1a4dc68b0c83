package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// typedWalker follows a structured-merge-diff schema through an unstructured value the way the
// library's validator does and builds the same paths, so that its results line up with the
// library's errors. It runs only for objects that failed validation.
type typedWalker struct {
	schema *smdschema.Schema
	// prune makes walk return a copy of the value without unknown fields.
	prune bool
	// unknown collects the fields the schema does not declare.
	unknown []unknownField
	// found maps paths asked for to a description of the value there (filled by walk).
	found map[string]string
}

// unknownField is a field the schema does not declare.
type unknownField struct {
	parent string // path of the map holding it, "" for the root
	name   string
	known  []string // fields the schema declares in that map
}

func (w *typedWalker) walk(tr smdschema.TypeRef, v any, path string) any {
	if _, ok := w.found[path]; ok {
		w.found[path] = describeValue(v)
	}
	atom, ok := w.schema.Resolve(tr)
	if !ok {
		return v
	}
	switch val := v.(type) {
	case map[string]any:
		if atom.Map != nil {
			return w.walkMap(atom.Map, val, path)
		}
	case []any:
		if atom.List != nil {
			return w.walkList(atom.List, val, path)
		}
	}
	return v
}

func (w *typedWalker) walkMap(m *smdschema.Map, val map[string]any, path string) any {
	var out map[string]any
	if w.prune {
		out = make(map[string]any, len(val))
	}
	for _, k := range slices.Sorted(maps.Keys(val)) {
		tr := m.ElementType
		if f, ok := m.FindField(k); ok {
			tr = f.Type
		} else if tr == (smdschema.TypeRef{}) {
			w.unknown = append(w.unknown, unknownField{parent: path, name: k, known: fieldNames(m)})
			continue
		}
		child := w.walk(tr, val[k], path+"."+k)
		if w.prune {
			out[k] = child
		}
	}
	if w.prune {
		return out
	}
	return val
}

func (w *typedWalker) walkList(l *smdschema.List, val []any, path string) any {
	var out []any
	if w.prune {
		out = make([]any, 0, len(val))
	}
	for i, item := range val {
		elem, ok := w.listElement(l, i, item)
		if !ok {
			// The library stops at such an entry and reports it; nothing below can be checked.
			if w.prune {
				out = append(out, item)
			}
			continue
		}
		child := w.walk(l.ElementType, item, path+elem)
		if w.prune {
			out = append(out, child)
		}
	}
	if w.prune {
		return out
	}
	return val
}

// listElement renders the path element of entry i the way structured-merge-diff does: by key
// fields (with schema defaults for absent keys, sorted) for keyed lists, by value for sets, by
// index otherwise.
func (w *typedWalker) listElement(l *smdschema.List, i int, item any) (string, bool) {
	if l.ElementRelationship != smdschema.Associative {
		return fmt.Sprintf("[%d]", i), true
	}
	if len(l.Keys) == 0 {
		switch item.(type) {
		case map[string]any, []any, nil:
			return "", false
		}
		v := value.NewValueInterface(item)
		return fieldpath.PathElement{Value: &v}.String(), true
	}
	m, ok := item.(map[string]any)
	if !ok {
		return "", false
	}
	var elemMap *smdschema.Map
	if atom, ok := w.schema.Resolve(l.ElementType); ok {
		elemMap = atom.Map
	}
	keys := value.FieldList{}
	for _, name := range l.Keys {
		if v, ok := m[name]; ok {
			keys = append(keys, value.Field{Name: name, Value: value.NewValueInterface(v)})
			continue
		}
		if elemMap != nil {
			if f, ok := elemMap.FindField(name); ok && f.Default != nil {
				keys = append(keys, value.Field{Name: name, Value: value.NewValueInterface(f.Default)})
			}
		}
	}
	if len(keys) == 0 {
		return "", false
	}
	keys.Sort()
	return fieldpath.PathElement{Key: &keys}.String(), true
}

func fieldNames(m *smdschema.Map) []string {
	names := make([]string, len(m.Fields))
	for i, f := range m.Fields {
		names[i] = f.Name
	}
	return names
}

// message explains an unknown field: its name, the closest declared field when one is near,
// and where to read the schema.
func (u unknownField) message(explain explainTarget, prefix string) string {
	msg := fmt.Sprintf("unknown field %q", u.name)
	if s := closestName(u.name, u.known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; check its spelling and indentation (it may belong one level up or down)"
	}
	if cmd := explain.command(joinPath(prefix, u.parent)); cmd != "" {
		msg += "; the fields allowed here are listed by `" + cmd + "`"
	}
	return msg
}

// closestName returns the candidate nearest to name: a case-insensitive match, or one within an
// edit distance of a third of the name's length (at most 3); "" when none is near.
func closestName(name string, candidates []string) string {
	best, bestDist := "", min(3, max(1, len(name)/3))+1
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b: the Levenshtein distance
// where swapping two adjacent letters, a common typo, counts as one edit.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
