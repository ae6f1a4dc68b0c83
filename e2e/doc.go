// Package e2e holds the end-to-end tests of the gitops-agent binary: the real binary, built
// once per run, follows a git repository served over smart HTTP and keeps environments of a
// real local cluster on its newest valid commit, while the tests push commits, send signed
// webhooks, kill the agent and read the cluster, the Environment objects and the agent's
// metrics. Benchmarks measure push-to-applied latency, the initial sync of many environments
// and the API writes of an idle restart.
//
// The tests need the local control plane: run them with
//
//	GITOPS_AGENT_CLUSTER_BIN=$(deploy/local/build-cluster.sh --print-dir) go test ./e2e/
//
// and the benchmarks with -run '^$' -bench . -benchtime 1x. With -short they are skipped.
package e2e
