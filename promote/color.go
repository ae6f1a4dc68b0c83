package promote

import "fmt"

// Color is one of the two copies of an environment's workloads.
type Color string

// The colours.
const (
	Blue  Color = "blue"
	Green Color = "green"
)

// Labels and annotations of promotion.
const (
	// LabelColor marks a coloured object, its selector and its pods; routers select by it.
	LabelColor = "promote.gitops-agent.io/color"
	// AnnotationRouter set to "true" on a Service makes it a router.
	AnnotationRouter = "promote.gitops-agent.io/router"
	// AnnotationSmoke set to "true" on a Job makes it a smoke check of the idle colour.
	AnnotationSmoke = "promote.gitops-agent.io/smoke"
	// LabelPreview marks the preview Service of a router.
	LabelPreview = "promote.gitops-agent.io/preview"
	// LabelSmokeOf names, on a smoke run, the Job of the repository it runs.
	LabelSmokeOf = "promote.gitops-agent.io/smoke-of"
)

// previewSuffix ends the name of a router's preview Service.
const previewSuffix = "-preview"

// Other returns the other colour.
func (c Color) Other() Color {
	if c == Blue {
		return Green
	}
	return Blue
}

func (c Color) valid() error {
	if c != Blue && c != Green {
		return fmt.Errorf("colour %q is neither %q nor %q", c, Blue, Green)
	}
	return nil
}

// ColoredName returns the name of the c copy of a Deployment (or of an object that follows it)
// named name.
func ColoredName(name string, c Color) string { return name + "-" + string(c) }
