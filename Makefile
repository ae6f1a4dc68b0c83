# gitops-agent — see README.md. `make run` and `make test` are the two commands a newcomer needs.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
export GOTOOLCHAIN := local

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Go test timeout for the whole suite; integration packages each start a local cluster.
TEST_TIMEOUT ?= 30m
BENCH        ?= .
BENCHTIME    ?= 1x

# The local control plane's binaries, built once into a cache keyed by version.
CLUSTER_BIN = $(shell deploy/local/build-cluster.sh --print-dir)

.PHONY: all build cluster-bin cluster run test lint bench clean help

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/gitops-agent
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/gitops-agent ./cmd/gitops-agent

cluster-bin: ## build the local control plane (etcd, kube-*, kwok) into the cache; cached after the first run
	deploy/local/build-cluster.sh >/dev/null

cluster: build cluster-bin ## only a throw-away local cluster, until Ctrl-C
	GITOPS_AGENT_CLUSTER_BIN=$(CLUSTER_BIN) bin/gitops-agent dev cluster --kubeconfig .local/kubeconfig

run: build cluster-bin ## the main job: a local cluster, this repo's deployments over git smart HTTP, and the agent following them
	rm -rf .local/run
	GITOPS_AGENT_CLUSTER_BIN=$(CLUSTER_BIN) bin/gitops-agent dev run --dir .local/run

test: cluster-bin ## unit, policy and integration tests (integration tests run on a real local cluster)
	GITOPS_AGENT_CLUSTER_BIN=$(CLUSTER_BIN) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

lint: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

bench: cluster-bin ## benchmarks, printed as figures (go test -bench)
	tools=$$(deploy/local/build-bench-tools.sh); \
	KUBECONFORM=$$tools/kubeconform CONFTEST=$$tools/conftest GITOPS_AGENT_CLUSTER_BIN=$(CLUSTER_BIN) \
		$(GO) test -count=1 -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem -timeout $(TEST_TIMEOUT) ./...

clean: ## remove build output (the cluster cache stays: deploy/local/build-cluster.sh --print-dir)
	rm -rf bin .local
