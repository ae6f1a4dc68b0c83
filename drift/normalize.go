package drift

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
)

// equalValues reports whether a desired and a live value mean the same. The API server
// rewrites some values it accepts (quantities to their canonical form, "0.5" to "500m"), and
// YAML and JSON disagree on the type of a number, so values are compared by meaning: numbers
// by value, a number and a string of it as equal (8080 and "8080"), and, outside fields the
// schema types as strings, quantities by amount ("1Gi" and "1024Mi").
func equalValues(desired, live any, scalar smdschema.Scalar) bool {
	switch d := desired.(type) {
	case nil:
		return live == nil
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok || len(l) != len(d) {
			return false
		}
		for k, dv := range d {
			lv, ok := l[k]
			if !ok || !equalValues(dv, lv, "") {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(d) {
			return false
		}
		for i := range d {
			if !equalValues(d[i], l[i], "") {
				return false
			}
		}
		return true
	case bool:
		l, ok := live.(bool)
		return ok && l == d
	}
	if desired == live {
		return true
	}
	dn, dIsNum := number(desired)
	ln, lIsNum := number(live)
	ds, dIsStr := desired.(string)
	ls, lIsStr := live.(string)
	switch {
	case dIsNum && lIsNum:
		return dn.Cmp(ln) == 0
	case scalar == smdschema.String:
		return dIsStr && lIsStr && ds == ls
	case dIsStr && lIsNum:
		return numericString(ds, ln) || sameQuantity(ds, ln.RatString())
	case dIsNum && lIsStr:
		return numericString(ls, dn) || sameQuantity(dn.RatString(), ls)
	case dIsStr && lIsStr:
		return sameQuantity(ds, ls)
	}
	return false
}

// number returns v as an exact number when it is one.
func number(v any) (*big.Rat, bool) {
	r := new(big.Rat)
	switch n := v.(type) {
	case int64:
		return r.SetInt64(n), true
	case int:
		return r.SetInt64(int64(n)), true
	case int32:
		return r.SetInt64(int64(n)), true
	case float64:
		if r.SetFloat64(n) == nil {
			return nil, false
		}
		return r, true
	case json.Number:
		if _, ok := r.SetString(n.String()); !ok {
			return nil, false
		}
		return r, true
	}
	return nil, false
}

// numericString reports whether s spells the number n.
func numericString(s string, n *big.Rat) bool {
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return false
	}
	r, ok := new(big.Rat).SetString(s)
	return ok && r.Cmp(n) == 0
}

// sameQuantity reports whether a and b are both quantities of the same amount.
func sameQuantity(a, b string) bool {
	qa, err := resource.ParseQuantity(a)
	if err != nil {
		return false
	}
	qb, err := resource.ParseQuantity(b)
	if err != nil {
		return false
	}
	return qa.Cmp(qb) == 0
}

// sameSecretBytes reports whether a Secret's desired and live data values hold the same bytes;
// both are base64, but either may be padded or wrapped differently.
func sameSecretBytes(desired, live any) bool {
	d, dok := desired.(string)
	l, lok := live.(string)
	if !dok || !lok {
		return equalValues(desired, live, smdschema.String)
	}
	if d == l {
		return true
	}
	db, err1 := base64.StdEncoding.DecodeString(d)
	lb, err2 := base64.StdEncoding.DecodeString(l)
	return err1 == nil && err2 == nil && string(db) == string(lb)
}

// sameStringData reports whether a desired stringData value is what live data holds.
func sameStringData(desired, live any) bool {
	d, dok := desired.(string)
	l, lok := live.(string)
	if !dok || !lok {
		return false
	}
	lb, err := base64.StdEncoding.DecodeString(l)
	return err == nil && string(lb) == d
}

// maxRendering bounds a rendered value in a report: reports end up in the Environment status.
const maxRendering = 80

// show returns a short rendering of a value for a report.
func show(v any, found bool) string {
	if !found {
		return absent
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
		if s == "" {
			s = `""`
		}
	case nil:
		s = "null"
	default:
		raw, err := json.Marshal(x)
		if err != nil {
			s = fmt.Sprint(x)
		} else {
			s = string(raw)
		}
	}
	if r := []rune(s); len(r) > maxRendering {
		s = string(r[:maxRendering-1]) + "…"
	}
	return s
}
