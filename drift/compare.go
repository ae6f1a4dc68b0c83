package drift

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"

	"github.com/gitops-agent/gitops-agent/render"
)

// Compare returns how live differs from desired, looking only at the fields desired sets:
// server defaults, the status, metadata the server owns and fields that only other managers
// set never count. desired is the form the agent applies (apply.AsApplied); live is the
// object in the cluster, nil when it does not exist. ignore holds the environment's rules,
// the HorizontalPodAutoscaler default already among them (HPAIgnoreRules).
//
// A field whose value differs is Modified; when every value is equal but another manager took
// ownership of a field the agent applied with a forced server-side apply, the object is in
// Conflict. An update (kubectl edit or patch) that left the value as desired is no drift. Secret data is compared
// by value but never rendered.
func Compare(desired, live *unstructured.Unstructured, ignore []IgnoreRule) ObjectDrift {
	return compare(desired, live, ignore).drift
}

// comparison is Compare's result with what the detector and UnifiedDiff need besides.
type comparison struct {
	drift ObjectDrift
	// changedAt is when the live change was made, as far as managedFields tell; zero when
	// unknown.
	changedAt time.Time
	// desired and live are the two objects cut down to the compared fields, ignored fields
	// left out and Secret values replaced, for UnifiedDiff. live is nil when the object does
	// not exist.
	desired, live map[string]any
}

// metadataSkipped are the metadata fields that identify the object or that the server owns.
var metadataSkipped = map[string]bool{
	"name": true, "namespace": true, "generateName": true, "uid": true, "resourceVersion": true,
	"generation": true, "creationTimestamp": true, "deletionTimestamp": true,
	"deletionGracePeriodSeconds": true, "managedFields": true, "selfLink": true,
}

func compare(desired, live *unstructured.Unstructured, ignore []IgnoreRule) comparison {
	ref := render.RefOf(desired)
	c := comparison{drift: ObjectDrift{Ref: ref}, desired: identity(desired)}
	if live == nil || live.GetDeletionTimestamp() != nil {
		c.drift.Type = Deleted
		if live != nil {
			c.changedAt = live.GetDeletionTimestamp().Time
		}
		c.walk(desired, nil, ignore)
		c.live = nil
		return c
	}
	c.live = identity(live)
	w := c.walk(desired, live, ignore)
	c.changedAt = w.changedAt
	modified := false
	for _, f := range w.fields {
		c.drift.Fields = append(c.drift.Fields, f.FieldDrift)
		modified = modified || !f.conflict
	}
	switch {
	case len(w.fields) == 0:
	case modified:
		c.drift.Type = Modified
	default:
		c.drift.Type = Conflict
	}
	c.drift.Manager = w.manager
	return c
}

// identity returns the fields that name u, the start of a projection.
func identity(u *unstructured.Unstructured) map[string]any {
	md := map[string]any{"name": u.GetName()}
	if ns := u.GetNamespace(); ns != "" {
		md["namespace"] = ns
	}
	return map[string]any{"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(), "metadata": md}
}

// walk compares every field of desired against live (nil when absent) and fills the
// projections.
func (c *comparison) walk(desired, live *unstructured.Unstructured, ignore []IgnoreRule) *walker {
	gvk := desired.GroupVersionKind()
	w := &walker{ignore: ignoredPaths(ignore, c.drift.Ref)}
	if live != nil {
		w.own = ownershipOf(live)
	}
	root := typeOf(gvk)
	var liveObj map[string]any
	if live != nil {
		liveObj = live.Object
	}
	secret := gvk.Group == "" && gvk.Kind == "Secret"
	for _, k := range sortedKeys(desired.Object) {
		d := desired.Object[k]
		l, lok := liveObj[k]
		switch {
		case k == "apiVersion" || k == "kind" || k == "status":
		case k == "metadata":
			w.metadata(c, d, l, metadataType(root))
		case secret && (k == "data" || k == "stringData"):
			w.secretData(c, desired.Object, liveObj, k)
		default:
			ptr := "/" + escape(k)
			if ignored(w.ignore, ptr) {
				continue
			}
			pd, pl, plok := w.walk(d, l, lok, root.field(k), k, ptr, fieldpath.MakePathOrDie(k), false)
			c.desired[k] = pd
			if plok && c.live != nil {
				c.live[k] = pl
			}
		}
	}
	return w
}

// metadataType returns the type of metadata, taken from a built-in kind when root is a
// custom resource: every kind's metadata is an ObjectMeta.
func metadataType(root typeInfo) typeInfo {
	if root.known() {
		return root.field("metadata")
	}
	return typeOf(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}).field("metadata")
}

// metadata compares the metadata fields the agent sets: labels, annotations and the like.
func (w *walker) metadata(c *comparison, d, l any, t typeInfo) {
	dm, _ := d.(map[string]any)
	lm, _ := l.(map[string]any)
	pdMeta := c.desired["metadata"].(map[string]any)
	var plMeta map[string]any
	if c.live != nil {
		plMeta = c.live["metadata"].(map[string]any)
	}
	for _, k := range sortedKeys(dm) {
		if metadataSkipped[k] {
			continue
		}
		ptr := "/metadata/" + escape(k)
		if ignored(w.ignore, ptr) {
			continue
		}
		lv, lok := lm[k]
		pd, pl, plok := w.walk(dm[k], lv, lok, t.field(k), k, ptr, fieldpath.MakePathOrDie("metadata", k), false)
		pdMeta[k] = pd
		if plok && plMeta != nil {
			plMeta[k] = pl
		}
	}
}

// walker compares one object.
type walker struct {
	ignore [][]string
	own    ownership
	fields []fieldResult
	// changedAt and manager are the time and manager of the most recent owned change.
	changedAt time.Time
	manager   string
}

type fieldResult struct {
	FieldDrift
	conflict bool
}

// walk compares the desired value d at ptr with the live value l (lok false when absent),
// and returns the two projections, the live one only when plok. t is d's type, field the name
// d has in its parent map, own the path whose managed-fields owner owns d, and fixed whether
// own is an atomic container above d rather than d itself.
func (w *walker) walk(d, l any, lok bool, t typeInfo, field, ptr string, own fieldpath.Path, fixed bool) (pd, pl any, plok bool) {
	if l == nil {
		lok = false
	}
	switch dv := d.(type) {
	case map[string]any:
		lm, isMap := l.(map[string]any)
		if len(dv) == 0 || lok && !isMap {
			// An empty desired map asks only that the field exist (emptyDir: {}); the server
			// drops some empty maps, so absence is no drift either.
			equal := !lok || isMap
			if len(dv) > 0 {
				equal = false
			}
			return w.leaf(d, l, lok, equal, t, ptr, own)
		}
		atomic := t.atomicMap()
		pdm, plm := map[string]any{}, map[string]any{}
		for _, k := range sortedKeys(dv) {
			cptr := ptr + "/" + escape(k)
			if ignored(w.ignore, cptr) {
				continue
			}
			cown, cfixed := own, fixed || atomic
			if !cfixed {
				cown = appendPath(own, fieldpath.PathElement{FieldName: &k})
			}
			lv, ok := lm[k]
			cpd, cpl, cplok := w.walk(dv[k], lv, ok, t.field(k), k, cptr, cown, cfixed)
			pdm[k] = cpd
			if cplok {
				plm[k] = cpl
			}
		}
		return pdm, plm, lok
	case []any:
		ll, isList := l.([]any)
		if len(dv) == 0 || lok && !isList {
			equal := !lok || isList && len(ll) == 0
			if len(dv) > 0 {
				equal = false
			}
			return w.leaf(d, l, lok, equal, t, ptr, own)
		}
		kind, keys := listKindOf(t, field, dv)
		switch kind {
		case listKeyed:
			return w.keyedList(dv, ll, lok, t.elem(), keys, ptr, own, fixed)
		case listSet:
			return w.setList(dv, ll, lok, t.elem(), ptr, own, fixed)
		}
		if !lok || len(ll) != len(dv) {
			return w.leaf(d, l, lok, false, t, ptr, own)
		}
		pdl, pll := make([]any, 0, len(dv)), make([]any, 0, len(dv))
		for i := range dv {
			iptr := ptr + "/" + strconv.Itoa(i)
			if ignored(w.ignore, iptr) {
				continue
			}
			cpd, cpl, _ := w.walk(dv[i], ll[i], true, t.elem(), "", iptr, own, true)
			pdl, pll = append(pdl, cpd), append(pll, cpl)
		}
		return pdl, pll, true
	}
	// A desired null (creationTimestamp: null in generated templates) asks for nothing.
	equal := d == nil && !lok || lok && equalValues(d, l, t.scalar())
	return w.leaf(d, l, lok, equal, t, ptr, own)
}

// keyedList matches the desired items to live ones by their keys.
func (w *walker) keyedList(dv, ll []any, lok bool, item typeInfo, keys []string, ptr string, own fieldpath.Path, fixed bool) (any, any, bool) {
	pdl, pll := make([]any, 0, len(dv)), make([]any, 0, len(dv))
	for i, it := range dv {
		iptr := ptr + "/" + strconv.Itoa(i)
		if ignored(w.ignore, iptr) {
			continue
		}
		dm, ok := it.(map[string]any)
		if !ok {
			pd, _, _ := w.leaf(it, nil, false, false, item, iptr, own)
			pdl = append(pdl, pd)
			continue
		}
		li, found := findItem(dm, ll, keys, item)
		if !found {
			pd, _, _ := w.leaf(it, nil, false, false, item, iptr, appendPath(own, keyElement(dm, keys, item)))
			pdl = append(pdl, pd)
			continue
		}
		iown := own
		if !fixed {
			iown = appendPath(own, keyElement(ll[li].(map[string]any), keys, item))
		}
		cpd, cpl, _ := w.walk(it, ll[li], true, item, "", iptr, iown, fixed)
		pdl, pll = append(pdl, cpd), append(pll, cpl)
	}
	return pdl, pll, lok
}

// setList checks that every desired scalar is in the live set; other managers may add theirs.
func (w *walker) setList(dv, ll []any, lok bool, item typeInfo, ptr string, own fieldpath.Path, fixed bool) (any, any, bool) {
	pdl, pll := make([]any, 0, len(dv)), make([]any, 0, len(dv))
	for i, it := range dv {
		iptr := ptr + "/" + strconv.Itoa(i)
		if ignored(w.ignore, iptr) {
			continue
		}
		found := slices.ContainsFunc(ll, func(l any) bool { return equalValues(it, l, item.scalar()) })
		iown := own
		if !fixed {
			iown = appendPath(own, fieldpath.PathElement{Value: ptrTo(value.NewValueInterface(it))})
		}
		pd, pl, plok := w.leaf(it, it, found, found, item, iptr, iown)
		pdl = append(pdl, pd)
		if plok {
			pll = append(pll, pl)
		}
	}
	return pdl, pll, lok
}

// findItem returns the index of the live item whose keys equal the desired item's. A key the
// desired item leaves out matches its default (protocol TCP).
func findItem(d map[string]any, ll []any, keys []string, item typeInfo) (int, bool) {
	for i, l := range ll {
		lm, ok := l.(map[string]any)
		if !ok {
			continue
		}
		match := true
		for _, k := range keys {
			dv, dok := d[k]
			lv, lok := lm[k]
			if def, ok := keyDefault(item, k); ok {
				if !dok {
					dv, dok = def, true
				}
				if !lok {
					lv, lok = def, true
				}
			}
			if dok != lok || dok && !equalValues(dv, lv, item.field(k).scalar()) {
				match = false
				break
			}
		}
		if match {
			return i, true
		}
	}
	return 0, false
}

// keyElement returns the managed-fields path element of a keyed list's item.
func keyElement(m map[string]any, keys []string, item typeInfo) fieldpath.PathElement {
	fl := make(value.FieldList, 0, len(keys))
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			if v, ok = keyDefault(item, k); !ok {
				continue
			}
		}
		fl = append(fl, value.Field{Name: k, Value: value.NewValueInterface(v)})
	}
	fl.Sort()
	return fieldpath.PathElement{Key: &fl}
}

// leaf records the comparison of one field and returns its projections.
func (w *walker) leaf(d, l any, lok, equal bool, t typeInfo, ptr string, own fieldpath.Path) (any, any, bool) {
	if equal {
		if w.own.known && !w.own.agentOwns(own) {
			if m, at, ok := w.own.applierOf(own); ok {
				w.record(fieldResult{FieldDrift: FieldDrift{Path: ptr, Manager: m, Desired: show(d, true), Live: show(l, lok)}, conflict: true}, m, at)
			}
		}
		// The desired value stands for the live one: an equal value spelled another way
		// ("0.5" for "500m") is no difference to show.
		return d, d, true
	}
	m, at, ok := w.own.ownerOf(own)
	if !ok {
		_, at = w.own.newest()
		m = ""
	}
	w.record(fieldResult{FieldDrift: FieldDrift{Path: ptr, Manager: m, Desired: show(d, true), Live: show(l, lok)}}, m, at)
	return d, l, lok
}

// record adds a field and keeps the most recent change's manager and time.
func (w *walker) record(f fieldResult, manager string, at time.Time) {
	w.fields = append(w.fields, f)
	if at.After(w.changedAt) || w.changedAt.IsZero() {
		w.changedAt = at
		if manager != "" {
			w.manager = manager
		}
	}
	if w.manager == "" {
		w.manager = manager
	}
}

// secretData compares a Secret's data (base64) or stringData (plain, which the server moves
// into data) with live data, by value, without ever rendering a value.
func (w *walker) secretData(c *comparison, desired, live map[string]any, field string) {
	dm, _ := desired[field].(map[string]any)
	liveData, _ := live["data"].(map[string]any)
	stringData, _ := desired["stringData"].(map[string]any)
	pd := map[string]any{}
	pl := map[string]any{}
	for _, k := range sortedKeys(dm) {
		if _, overridden := stringData[k]; field == "data" && overridden {
			continue // the server lets stringData win
		}
		ptr := "/data/" + escape(k)
		if ignored(w.ignore, ptr) || ignored(w.ignore, "/"+field+"/"+escape(k)) {
			continue
		}
		lv, lok := liveData[k]
		equal := lok && sameSecretBytes(dm[k], lv)
		if field == "stringData" {
			equal = lok && sameStringData(dm[k], lv)
		}
		own := fieldpath.MakePathOrDie("data", k)
		pd[k] = redacted
		if lok {
			pl[k] = redacted
			if !equal {
				pl[k] = redactedChanged
			}
		}
		if equal {
			// stringData never shows in live objects, so its ownership cannot be judged.
			if field == "data" && w.own.known && !w.own.agentOwns(own) {
				if m, at, ok := w.own.applierOf(own); ok {
					w.record(fieldResult{FieldDrift: FieldDrift{Path: ptr, Manager: m, Desired: redacted, Live: redacted}, conflict: true}, m, at)
				}
			}
			continue
		}
		m, at, ok := w.own.ownerOf(own)
		if !ok {
			_, at = w.own.newest()
		}
		w.record(fieldResult{FieldDrift: FieldDrift{Path: ptr, Manager: m, Desired: redacted, Live: redacted}}, m, at)
	}
	c.desired[field] = pd
	if c.live != nil {
		c.live[field] = pl
	}
}

// escape escapes a JSON pointer segment (RFC 6901).
func escape(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func appendPath(p fieldpath.Path, pe fieldpath.PathElement) fieldpath.Path {
	out := make(fieldpath.Path, len(p), len(p)+1)
	copy(out, p)
	return append(out, pe)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func ptrTo[T any](v T) *T { return &v }
