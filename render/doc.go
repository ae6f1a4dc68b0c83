// Package render builds the per-environment kustomize overlays of a deployments repository
// into Kubernetes objects: from a directory on disk or straight from a git commit's tree, with
// load restrictions that keep kustomize inside the repository, and with each object's source
// file kept so that findings and errors can name it.
package render
