package policy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// smdUnknownField is the message structured-merge-diff gives a field its schema lacks.
const smdUnknownField = "field not declared in schema"

// maxPruneRounds bounds the re-validation after unknown fields are removed; one round suffices
// unless the walker and structured-merge-diff disagree, which must not loop forever.
const maxPruneRounds = 3

// checkTyped validates v against pt with structured-merge-diff and reports every problem under
// prefix (the path of v in the object, "" for the object itself).
//
// structured-merge-diff stops looking at a map at its first unknown field, which hides the
// map's other unknown fields and any error after it. So when it reports an unknown field, a
// walker that follows the same schema lists all unknown fields and removes them, and the rest is
// validated again.
func checkTyped(pt typed.ParseableType, v any, prefix string, explain explainTarget, r *objectReport) {
	errs := smdErrors(pt, v, r, prefix)
	for round := 0; round < maxPruneRounds && hasUnknownField(errs); round++ {
		w := &typedWalker{schema: pt.Schema, prune: true}
		v = w.walk(pt.TypeRef, v, "")
		for _, u := range w.unknown {
			r.add(RuleSchema, Deny, joinPath(prefix, u.parent+"."+u.name), u.message(explain, prefix))
		}
		errs = smdErrors(pt, v, r, prefix)
	}
	if len(errs) == 0 {
		return
	}

	// Describe the values behind type errors without quoting them: they may be Secret data.
	w := &typedWalker{schema: pt.Schema, found: make(map[string]string)}
	for _, e := range errs {
		w.found[e.Path] = ""
	}
	w.walk(pt.TypeRef, v, "")
	for _, e := range errs {
		field, msg := describeSMDError(e, w.found[e.Path])
		r.add(RuleSchema, Deny, joinPath(prefix, field), msg)
	}
}

// smdErrors validates v and returns structured-merge-diff's errors; a failure that is not a
// validation error (a broken schema) is reported at once.
func smdErrors(pt typed.ParseableType, v any, r *objectReport, prefix string) typed.ValidationErrors {
	_, err := pt.FromUnstructured(v)
	if err == nil {
		return nil
	}
	var errs typed.ValidationErrors
	if errors.As(err, &errs) {
		return errs
	}
	r.add(RuleSchema, Deny, prefix, fmt.Sprintf("the object cannot be checked against its schema: %v", err))
	return nil
}

func hasUnknownField(errs typed.ValidationErrors) bool {
	for _, e := range errs {
		if e.ErrorMessage == smdUnknownField {
			return true
		}
	}
	return false
}

// joinPath joins a prefix ("metadata") and a structured-merge-diff path (".labels"), dropping
// the leading dot of the result: "metadata.labels", "spec.replicas".
func joinPath(prefix, path string) string {
	return strings.TrimPrefix(prefix+path, ".")
}

var (
	smdExpected  = regexp.MustCompile(`^expected (.+?), got `)
	smdDuplicate = regexp.MustCompile(`^duplicate entries for key (\[.*\])$`)
	smdElement   = regexp.MustCompile(`^element (\d+): (.*)$`)
	smdNoKey     = regexp.MustCompile(`omits all key fields \[(.*?)\]`)
	smdKeyName   = regexp.MustCompile(`(\w+)=`)
)

// describeSMDError turns one structured-merge-diff error into a field path and a message that
// says what is wrong and how to fix it. found describes the value at the error's path ("a
// number"); values themselves are never quoted.
func describeSMDError(e typed.ValidationError, found string) (field, msg string) {
	switch m := e.ErrorMessage; {
	case smdExpected.MatchString(m):
		want := smdExpected.FindStringSubmatch(m)[1]
		return e.Path, wrongTypeMessage(want, found)
	case smdDuplicate.MatchString(m):
		key := smdDuplicate.FindStringSubmatch(m)[1]
		names := keyNames(key)
		return e.Path + key, fmt.Sprintf("duplicate entry %s: the entries of this list are identified by %s, which must be unique; "+
			"rename or merge the duplicates (a patch or overlay may have added the same entry twice)", key, names)
	case smdElement.MatchString(m):
		sub := smdElement.FindStringSubmatch(m)
		field = e.Path + "[" + sub[1] + "]"
		if k := smdNoKey.FindStringSubmatch(sub[2]); k != nil {
			keys := strings.ReplaceAll(k[1], `" "`, `", "`)
			return field, fmt.Sprintf("this entry lacks %s: every entry of this list must set it, because entries are identified by it", keys)
		}
		return field, "this entry cannot be part of the list: " + sub[2]
	case m == smdUnknownField:
		return e.Path, "unknown field; check its spelling and indentation against the API reference"
	default:
		return e.Path, m
	}
}

// keyNames lists the key fields of a list entry path element: `[containerPort=80,protocol="TCP"]`
// gives "containerPort and protocol".
func keyNames(key string) string {
	var names []string
	for _, m := range smdKeyName.FindAllStringSubmatch(key, -1) {
		names = append(names, m[1])
	}
	if len(names) == 0 {
		return "their value"
	}
	return strings.Join(names, " and ")
}

func wrongTypeMessage(want, found string) string {
	switch want {
	case "string":
		want = "a string"
	case "numeric (int or float)":
		want = "a number"
	case "boolean":
		want = "a boolean (true or false)"
	case "any scalar":
		want = "a string, number or boolean"
	case "map":
		want = "an object (a map of fields)"
	case "list":
		want = "a list"
	}
	msg := "wrong type: expected " + want
	if found != "" {
		msg += ", got " + found
	}
	switch {
	case want == "a string" && (found == "a number" || found == "a boolean"):
		msg += `; quote the value (YAML reads 8080, 1.10, true, yes and on unquoted as numbers or booleans)`
	case found == "a list" || found == "an object (a map of fields)" || want == "a list" || want == "an object (a map of fields)":
		msg += "; check the indentation and the '-' of list entries"
	}
	return msg
}

// describeValue names the JSON type of v without revealing it.
func describeValue(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case map[string]any:
		return "an object (a map of fields)"
	case []any:
		return "a list"
	}
	if val := value.NewValueInterface(v); val.IsInt() || val.IsFloat() {
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}

// explainTarget names what `kubectl explain` needs to show the documentation of a field.
type explainTarget struct {
	gvk schema.GroupVersionKind
}

// command returns the kubectl explain command line for the field at path (list keys and
// indexes are dropped: explain documents the element type).
func (t explainTarget) command(path string) string {
	if t.gvk.Kind == "" {
		return ""
	}
	target := strings.ToLower(t.gvk.Kind)
	if p := stripListKeys(path); p != "" {
		target += "." + p
	}
	return fmt.Sprintf("kubectl explain %s --api-version=%s", target, t.gvk.GroupVersion())
}

// stripListKeys removes list keys and indexes from a path: `spec.containers[name="api"].env`
// gives "spec.containers.env". Keys are quoted and may contain brackets.
func stripListKeys(path string) string {
	var b strings.Builder
	depth, quoted, escaped := 0, false, false
	for _, c := range path {
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case depth > 0 && c == '"':
			quoted = !quoted
		case quoted:
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(c)
		}
	}
	return strings.Trim(b.String(), ".")
}
