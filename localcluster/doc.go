// Package localcluster runs a real, throw-away Kubernetes control plane on loopback: etcd,
// kube-apiserver (client-certificate auth, RBAC on), kube-controller-manager, kube-scheduler, and
// kwok, which plays the kubelet for fake nodes so that pods become Running and Ready, Deployments
// roll out and Jobs complete. It is what the integration tests, `make run`, `make bench` and
// `gitops-agent dev cluster` run against.
//
// The binaries come from deploy/local/build-cluster.sh, which builds them from the Go module
// proxy into a cache directory; this package only runs them.
package localcluster
