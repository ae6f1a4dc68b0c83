// Package crds carries the agent's own CustomResourceDefinitions: installed by deploy/ with
// kustomize, and by the agent itself at start-up so that a fresh cluster works without them.
package crds

import _ "embed"

// Environment is the CRD of the agent's per-environment status object.
//
//go:embed environments.gitops-agent.io.yaml
var Environment []byte
