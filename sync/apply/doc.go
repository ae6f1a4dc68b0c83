// Package apply owns writing rendered objects to a cluster and deleting the ones an environment
// no longer declares.
//
// Apply uses server-side apply with the field manager "gitops-agent", in stages (CRDs, then
// Namespaces, then other cluster-scoped objects, then namespaced objects), and performs no write
// for an object whose desired state the cluster already has. Prune deletes only objects that
// carry the agent's labels for the environment. Both return a ChangeSet, one typed Entry per
// object; callers log, count and emit events from it. The package never logs.
package apply
