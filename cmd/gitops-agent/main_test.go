package main

import (
	"os"
	"testing"

	"github.com/gitops-agent/gitops-agent/localcluster"
	"github.com/gitops-agent/gitops-agent/localcluster/clustertest"
)

// cluster backs the tests of commands that talk to a cluster (check --server); nil with -short.
var cluster *localcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(clustertest.Main(m, func(c *localcluster.Cluster) { cluster = c }))
}
