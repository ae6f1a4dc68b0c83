// Package inventory owns the record of which objects an environment applied, kept in the
// cluster so that a restarted agent still knows what to prune.
//
// An Inventory is built from an apply.ChangeSet; Diff of the previous and the current
// inventory gives the stale objects to prune. A Store keeps one ConfigMap per environment,
// gitops-agent-inventory-<env>, in the agent's namespace, with the commit the inventory was
// built from in an annotation and the object ids gzip-compressed in binaryData (read one with
// kubectl get configmap gitops-agent-inventory-<env> -o jsonpath='{.binaryData.inventory\.json\.gz}' | base64 -d | gunzip).
package inventory
