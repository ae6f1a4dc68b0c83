package policytest

import (
	"bufio"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/gitops-agent/gitops-agent/render"
)

// WriteYAML writes objs to w as one multi-document YAML stream, in order, as kubectl and the
// validation tools read it.
func WriteYAML(w io.Writer, objs []render.Object) error {
	bw := bufio.NewWriter(w)
	for i, o := range objs {
		if o.Obj == nil || o.Obj.Object == nil {
			return fmt.Errorf("object %d (%s) is empty: nothing to write", i, o.Source)
		}
		data, err := yaml.Marshal(o.Obj.Object)
		if err != nil {
			return fmt.Errorf("%s (%s): encode as YAML: %w", o.Ref(), o.Source, err)
		}
		if i > 0 {
			if _, err := bw.WriteString("---\n"); err != nil {
				return fmt.Errorf("write YAML: %w", err)
			}
		}
		if _, err := bw.Write(data); err != nil {
			return fmt.Errorf("write YAML: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write YAML: %w", err)
	}
	return nil
}
