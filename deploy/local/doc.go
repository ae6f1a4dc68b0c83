// Package local holds the scripts that build the local Kubernetes control plane from the Go
// module proxy (build-cluster.sh and the wrapper modules beside it) and the tests of those
// scripts. The cluster itself is run by package localcluster.
package local
