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

# The container image `make image` writes (deploy/image; `docker load -i bin/gitops-agent-image.tar`).
IMAGE        ?= ghcr.io/gitops-agent/gitops-agent
IMAGE_TAG    ?= $(VERSION)
IMAGE_SOURCE ?= https://github.com/gitops-agent/gitops-agent
REVISION     ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# Timestamps of the image and its files: the commit's, so that a rebuild gives the same digest.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
CA_BUNDLE    ?= /etc/ssl/certs/ca-certificates.crt

.PHONY: all build image cluster-bin cluster run test lint bench clean help

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/gitops-agent
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/gitops-agent ./cmd/gitops-agent

image: ## build the container image without a daemon: bin/gitops-agent-image.tar (docker-archive; docker load -i)
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' -o bin/image/gitops-agent ./cmd/gitops-agent
	$(GO) run ./deploy/image --binary bin/image/gitops-agent --out bin/gitops-agent-image.tar \
		--tag $(IMAGE):$(IMAGE_TAG) --version $(VERSION) --revision $(REVISION) --source $(IMAGE_SOURCE) \
		--created $(SOURCE_DATE_EPOCH) --ca-bundle $(CA_BUNDLE)

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
