// Package installtest proves the agent's installation in deploy/. Without a cluster (-short) it
// checks the manifests: they pass the agent's own schema and policy checks, every namespace and
// kind the example environments declare is covered by a Role, and every file the shipped
// configuration names is on a mounted volume. On the local cluster it applies deploy/, runs the
// freshly built agent as the installed ServiceAccount (through impersonation) with leader
// election, shows that it syncs every example environment, and that the ServiceAccount may do
// nothing else: no Secrets outside the managed namespaces, no cluster-wide writes.
//
// Run it with
//
//	GITOPS_AGENT_CLUSTER_BIN=$(deploy/local/build-cluster.sh --print-dir) go test ./deploy/installtest/
package installtest
