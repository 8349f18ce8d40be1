#!/usr/bin/env bash
# Drop-in migration (issue #17), root: 3 namespace hosts in Kubernetes mode (the test API server, vxlan, Nodes with
# podCIDRs) start on upstream flanneld v0.7.1 --kube-subnet-mgr, are replaced by ours one at a time (stop upstream,
# start ours, as a rolling update would), then back; a ping matrix between all pods at 10 ms runs throughout. Prints per
# step the lost pings and the longest gap per pair (table on stderr, one JSON line per step on stdout); exits 1 when any
# pair stays unreachable for more than 2 s.
#   FLANNEL_SRC=~/src/flannel bash bench/migration.sh      (a flannel checkout at tag v0.7.1; nothing of it is committed)
# Builds flanneld from FLANNEL_SRC with Debian's Go (apt-get install golang-go) in GOPATH mode (v0.7.1 predates modules
# and vendors its dependencies), or uses FLANNEL_UPSTREAM_FLANNELD when set. Needs socat and openssl (v0.7.1 speaks only
# https to the API: a TLS front for the test server). KEEP_LOGS=dir keeps the agents' logs;
# FLANNELD=path runs another build of ours (a control: main before issue #17 fails).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "migration.sh: run as root" >&2; exit 1; }
for c in socat openssl unshare ip ping kubectl; do command -v $c >/dev/null || { echo "migration.sh: $c missing" >&2; exit 1; }; done

if [ -z "${FLANNEL_UPSTREAM_FLANNELD:-}" ]; then
  [ -n "${FLANNEL_SRC:-}" ] || { echo "migration.sh: set FLANNEL_SRC to a flannel checkout at v0.7.1 (or FLANNEL_UPSTREAM_FLANNELD)" >&2; exit 1; }
  command -v go >/dev/null || { echo "migration.sh: go missing (apt-get install golang-go)" >&2; exit 1; }
  [ -f "$FLANNEL_SRC/subnet/kube/kube.go" ] || { echo "migration.sh: $FLANNEL_SRC is not a flannel checkout with subnet/kube" >&2; exit 1; }
  GOWORK_DIR=$(mktemp -d)
  trap 'rm -rf "$GOWORK_DIR"' EXIT
  mkdir -p "$GOWORK_DIR/src/github.com/coreos"
  cp -a "$FLANNEL_SRC" "$GOWORK_DIR/src/github.com/coreos/flannel"
  echo "migration.sh: building upstream flanneld from $FLANNEL_SRC ($(go version))" >&2
  (cd "$GOWORK_DIR/src/github.com/coreos/flannel" && GOPATH="$GOWORK_DIR" GO111MODULE=off GOFLAGS= CGO_ENABLED=1 \
    go build -ldflags "-X github.com/coreos/flannel/version.Version=v0.7.1" -o "$GOWORK_DIR/flanneld" .)
  export FLANNEL_UPSTREAM_FLANNELD="$GOWORK_DIR/flanneld"
fi

dotnet build bench/Flannel.Bench.Migration -c Release -nologo -v q "-clp:ErrorsOnly" >&2
export FLANNEL_KUBE_TEST_SERVER="$PWD/tests/Flannel.Kube.TestServer/bin/Release/net10.0/kube-test-server"
export FLANNEL_CNI_PLUGIN="$(scripts/cni-plugin.sh)"
bench/Flannel.Bench.Migration/bin/Release/net10.0/Flannel.Bench.Migration "$@"
