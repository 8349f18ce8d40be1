#!/usr/bin/env bash
# Installs the Debian packages the tests, the demo and the benchmarks use. Idempotent; quiet when all is there.
# clang: NativeAOT's compiler and linker for the `flannel` CNI plugin (scripts/cni-plugin.sh).
# time: GNU time, the max RSS of a CNI plugin exec in bench/cni.sh.
# buildah, podman, runc, skopeo: deploy/build-image.sh and the image flow of ./demo.sh --kube (crun, podman's default, refuses
# this machine's hybrid cgroup layout; the minimal kubelet runs podman with --runtime runc).
# linux-libc-dev: the uapi headers (linux/bpf.h) clang compiles the udp backend's TC-BPF programs with (src/Flannel.Net/Bpf).
set -euo pipefail
pkgs=(iproute2 iptables nftables iperf3 iputils-ping redis-server redis-tools containernetworking-plugins procps jq socat clang linux-libc-dev time buildah podman runc skopeo)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "prereqs: installing ${missing[*]}" >&2
  if [ "$(id -u)" != 0 ]; then echo "prereqs: run as root (apt-get, network namespaces)" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# redis-server's package starts a system service; the tests and the demo run their own instances inside pods.
command -v systemctl >/dev/null 2>&1 && systemctl stop redis-server >/dev/null 2>&1 || true
modprobe tun 2>/dev/null || true
modprobe vxlan 2>/dev/null || true
[ -c /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun; }
command -v dotnet >/dev/null || { echo "prereqs: the .NET SDK (dotnet) is not on PATH" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "prereqs: kubectl (1.27 or later) is not on PATH; tests/Flannel.Kube.Tests and ./demo.sh --kube run it against the test API server (https://kubernetes.io/docs/tasks/tools/)" >&2; exit 1; }
