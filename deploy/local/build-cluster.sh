#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kwok) from the Go module proxy into a cache directory keyed by version, and prints that
# directory's bin/ path on the last line of stdout.
#
# Each binary is built into a temporary directory and moved into place only after the build
# succeeded, followed by a stamp file naming its version: a half-built cache is never mistaken
# for a built one, and a re-run skips whatever is already complete.
#
# Usage: deploy/local/build-cluster.sh [--print-dir]
#   --print-dir  print the bin directory and exit without building (nothing is checked).
# Environment: GITOPS_AGENT_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/gitops-agent).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

cache_root=${GITOPS_AGENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gitops-agent}
dir="$cache_root/k8s-v${K8S_VERSION}-etcd-v${ETCD_VERSION}-kwok-v${KWOK_VERSION}"
bin="$dir/bin"

if [[ "${1:-}" == "--print-dir" ]]; then
	echo "$bin"
	exit 0
fi

fail() {
	echo "build-cluster: $*" >&2
	exit 1
}

command -v go >/dev/null 2>&1 ||
	fail "no Go toolchain on PATH: install Go 1.26 (https://go.dev/doc/install) and re-run"
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
[[ "$go_minor" =~ ^[0-9]+$ && "$go_minor" -ge 26 ]] ||
	fail "Go $(go env GOVERSION) is too old: the control plane needs Go 1.26 or newer"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
mkdir -p "$bin"

# built NAME VERSION: the binary is complete when its stamp names this version.
built() {
	[[ -x "$bin/$1" && -f "$bin/.$1.built" && "$(cat "$bin/.$1.built")" == "$2" ]]
}

# go_output_name PKG: the file `go build -o dir/` writes for PKG (a trailing /vN is skipped).
go_output_name() {
	local p=$1
	[[ "${p##*/}" =~ ^v[0-9]+$ ]] && p=${p%/*}
	echo "${p##*/}"
}

# binary_name PKG: the name the cluster runner expects.
binary_name() {
	case $1 in
	go.etcd.io/etcd/server/*) echo etcd ;;
	*) go_output_name "$1" ;;
	esac
}

# build MODULE_DIR VERSION LDFLAGS PKG...: builds PKGs (their last path element names the binary)
# in one `go build`, which shares compilation of common dependencies between them.
build() {
	local module_dir=$1 version=$2 ldflags=$3
	shift 3
	local pending=() pkg
	for pkg in "$@"; do
		built "$(binary_name "$pkg")" "$version" || pending+=("$pkg")
	done
	if [[ ${#pending[@]} -eq 0 ]]; then
		echo "build-cluster: cached: $* ($version)" >&2
		return
	fi
	local tmp
	tmp=$(mktemp -d "$dir/.build.XXXXXX")
	echo "build-cluster: building ${pending[*]} ($version) ..." >&2
	local start=$SECONDS
	if ! (cd "$here/$module_dir" && go mod download && go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${pending[@]}") >&2; then
		rm -rf "$tmp"
		fail "building ${pending[*]} failed (see the go output above); check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY)) and re-run"
	fi
	local name
	for pkg in "${pending[@]}"; do
		name=$(binary_name "$pkg")
		rm -f "$bin/.$name.built"
		mv -f "$tmp/$(go_output_name "$pkg")" "$bin/$name"
		echo "$version" >"$bin/.$name.built"
	done
	rm -rf "$tmp"
	echo "build-cluster: built ${pending[*]} in $((SECONDS - start))s" >&2
}

# Without these the servers report v0.0.0 on /version, and clients' version checks go wrong.
k8s_minor=$(echo "$K8S_VERSION" | cut -d. -f2)
k8s_ldflags="-s -w"
for var in gitVersion=v$K8S_VERSION gitMajor=1 gitMinor=$k8s_minor gitTreeState=clean buildDate=1970-01-01T00:00:00Z; do
	k8s_ldflags+=" -X k8s.io/component-base/version.$var -X k8s.io/client-go/pkg/version.$var"
done

build etcd "v$ETCD_VERSION" "-s -w" go.etcd.io/etcd/server/v3
build kwok "v$KWOK_VERSION" "-s -w" sigs.k8s.io/kwok/cmd/kwok
build kube "v$K8S_VERSION" "$k8s_ldflags" \
	k8s.io/kubernetes/cmd/kube-apiserver \
	k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler

echo "$bin"
