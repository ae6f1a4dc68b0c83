#!/usr/bin/env bash
# Installs the tools that the comparison benchmark (policy/comparebench) times gitops-agent's
# validation against, into a cache directory keyed by their versions, and prints that
# directory's bin/ path on the last line of stdout:
#   bin/kubeconform            github.com/yannh/kubeconform, from the Go module proxy
#   bin/conftest               github.com/open-policy-agent/conftest, from the Go module proxy
#   kubeconform-schemas/       kubeconform's JSON schemas of the built-in Kubernetes kinds
#                              (<kind>-<group>-<version>.json, strict), beside bin/
# The schemas are generated offline from the OpenAPI v3 spec that ships in the k8s.io/kubernetes
# module of the local control plane (deploy/local/kube pins it), by the generator in
# deploy/local/kube/kubeconform-schemas: kubeconform's usual schema source is a web site.
#
# As in build-cluster.sh, everything is built into a temporary directory and moved into place
# only after it succeeded, followed by a stamp file naming its version: a half-built cache is
# never mistaken for a built one, and a re-run skips whatever is already complete.
#
# Usage: deploy/local/build-bench-tools.sh [--print-dir]
#   --print-dir  print the bin directory and exit without building (nothing is checked).
# Environment: GITOPS_AGENT_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/gitops-agent).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

# conftest v0.71.1 needs Go 1.26.8 (its go.mod's go line); kubeconform v0.7.0 needs Go 1.24.
KUBECONFORM_VERSION=0.7.0
CONFTEST_VERSION=0.71.1

cache_root=${GITOPS_AGENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-agent}
dir="$cache_root/bench-tools-kubeconform-v${KUBECONFORM_VERSION}-conftest-v${CONFTEST_VERSION}-k8s-v${K8S_VERSION}"
bin="$dir/bin"
schemas="$dir/kubeconform-schemas"

if [[ "${1:-}" == "--print-dir" ]]; then
	echo "$bin"
	exit 0
fi

fail() {
	echo "build-bench-tools: $*" >&2
	exit 1
}

command -v go >/dev/null 2>&1 ||
	fail "no Go toolchain on PATH: install Go 1.26 (https://go.dev/doc/install) and re-run"
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
[[ "$go_minor" =~ ^[0-9]+$ && "$go_minor" -ge 26 ]] ||
	fail "Go $(go env GOVERSION) is too old: the benchmark tools need Go 1.26 or newer"

# `go install module@version` builds outside any module: a -mod flag inherited from GOFLAGS
# would make it fail, so GOFLAGS is cleared.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=
mkdir -p "$bin"

# stamped FILE STAMP: FILE's stamp (.FILE.built beside it) names STAMP.
stamped() {
	local stamp
	stamp="$(dirname "$1")/.$(basename "$1").built"
	[[ -e "$1" && -f "$stamp" && "$(cat "$stamp")" == "$2" ]]
}

# install_tool NAME PKG VERSION [VERSION_VAR]: go install PKG@VERSION as bin/NAME. VERSION_VAR is the
# variable the tool prints as its version: `go install` leaves it at its "dev" default.
install_tool() {
	local name=$1 pkg=$2 version=$3 version_var=${4:-}
	local ldflags="-s -w"
	[[ -z "$version_var" ]] || ldflags+=" -X $version_var=$version"
	if stamped "$bin/$name" "$version"; then
		echo "build-bench-tools: cached: $name ($version)" >&2
		return
	fi
	local tmp start=$SECONDS
	tmp=$(mktemp -d "$dir/.build.XXXXXX")
	echo "build-bench-tools: installing $pkg@$version ..." >&2
	if ! GOBIN="$tmp" go install -trimpath -ldflags "$ldflags" "$pkg@$version" >&2; then
		rm -rf "$tmp"
		fail "installing $pkg@$version failed (see the go output above); check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY)) and that $(go env GOVERSION) satisfies the go line of the module's go.mod, and re-run"
	fi
	rm -f "$bin/.$name.built"
	mv -f "$tmp/$(basename "$pkg")" "$bin/$name"
	echo "$version" >"$bin/.$name.built"
	rm -rf "$tmp"
	echo "build-bench-tools: installed $name in $((SECONDS - start))s" >&2
}

# generate_schemas: kubeconform schemas of the built-in kinds of Kubernetes $K8S_VERSION. The
# stamp names the generator's source too, so that a changed generator regenerates them.
generate_schemas() {
	local generator="$here/kube/kubeconform-schemas"
	local stamp
	stamp="v$K8S_VERSION $(cat "$generator"/*.go | sha256sum | cut -d' ' -f1)"
	if stamped "$schemas" "$stamp"; then
		echo "build-bench-tools: cached: kubeconform schemas (Kubernetes v$K8S_VERSION)" >&2
		return
	fi
	local tmp
	tmp=$(mktemp -d "$dir/.schemas.XXXXXX")
	chmod 755 "$tmp"
	echo "build-bench-tools: generating kubeconform schemas (Kubernetes v$K8S_VERSION) ..." >&2
	# The wrapper module pins k8s.io/kubernetes; its module directory holds the OpenAPI spec.
	if ! (
		# errexit does not apply in an if condition: every step checks its own status.
		cd "$here/kube" || exit 1
		go mod download k8s.io/kubernetes || exit 1
		module=$(go list -m -f '{{.Version}} {{.Dir}}' k8s.io/kubernetes) || exit 1
		[[ "${module%% *}" == "v$K8S_VERSION" ]] || {
			echo "deploy/local/kube/go.mod requires k8s.io/kubernetes ${module%% *}, but versions.env says v$K8S_VERSION; bring them in step" >&2
			exit 1
		}
		go run ./kubeconform-schemas -spec "${module#* }/api/openapi-spec/v3" -out "$tmp"
	) >&2; then
		rm -rf "$tmp"
		fail "generating the kubeconform schemas failed (see the output above)"
	fi
	rm -rf "$schemas" "$dir/.kubeconform-schemas.built"
	mv "$tmp" "$schemas"
	echo "$stamp" >"$dir/.kubeconform-schemas.built"
}

install_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "v$KUBECONFORM_VERSION" main.version
install_tool conftest github.com/open-policy-agent/conftest "v$CONFTEST_VERSION" \
	github.com/open-policy-agent/conftest/internal/version.Version
generate_schemas

echo "$bin"
