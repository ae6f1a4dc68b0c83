package drift

import (
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// diffContext is the number of unchanged lines shown around a change.
const diffContext = 3

// UnifiedDiff renders desired against live (nil when the object does not exist) as a unified
// diff of YAML, restricted to the fields the agent applies and without ignored fields, so
// that it shows exactly the drift Compare reports. Values equal by meaning ("500m" and "0.5")
// are shown as desired. A Secret's values are replaced: "(redacted)" where they agree and
// "(redacted, changed)" where the live value differs. It returns "" when there is nothing to
// show.
func UnifiedDiff(desired, live *unstructured.Unstructured, ignore []IgnoreRule) string {
	c := compare(desired, live, ignore)
	want := toYAML(c.desired)
	var got []string
	to := "live"
	if c.live != nil {
		live := toYAML(c.live)
		if live == want {
			return ""
		}
		got = lines(live)
	} else {
		to = "absent"
	}
	name := c.drift.Ref.String()
	out, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(want), B: got,
		FromFile: name + " (desired)", ToFile: name + " (" + to + ")", Context: diffContext,
	})
	if err != nil {
		// difflib fails only when its writer does; a strings.Builder never does.
		return fmt.Sprintf("--- %s (desired)\n+++ %s (%s)\n(diff unavailable: %v)\n", name, name, to, err)
	}
	return out
}

// lines splits text into lines that keep their newline.
func lines(text string) []string {
	out := strings.SplitAfter(text, "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// toYAML renders a projection. Projections hold only values decoded from JSON or YAML, which
// always encode.
func toYAML(m map[string]any) string {
	raw, err := yaml.Marshal(m)
	if err != nil {
		return fmt.Sprintf("(cannot render: %v)\n", err)
	}
	return string(raw)
}
