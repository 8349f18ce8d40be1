#!/usr/bin/env bash
# Live backend switch outage: bench/backend-switch.sh [from->to ...] (default udp->vxlan vxlan->udp vxlan->host-gw).
# Needs root (network namespaces). Per pair: 3 namespace hosts in Kubernetes mode, pod1 pings pod2 every 10 ms while
# `kubectl patch configmap kube-flannel-cfg` switches the backend. Prints one JSON line per pair, medians of
# SWITCH_BENCH_RUNS runs (default 3):
#   {"switch":"udp->vxlan","runs":3,"ping_interval_ms":10,"lost_packets":..,"loss_percent":..,"longest_gap_ms":..,
#    "all_switched_s":..,"leftovers":0,"longest_gap_ms_all":[..]}
# longest_gap_ms: the longest run of unanswered pings (the outage); all_switched_s: from the patch until every agent
# runs the new backend and every lease advertises it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "backend-switch: run as root" >&2; exit 1; fi
dotnet build bench/Flannel.Bench.Switch -c Release -nologo -v q "-clp:ErrorsOnly" >&2
# Its pods are made by the native `flannel` CNI plugin, which `dotnet build` does not make.
plugin="$(./scripts/cni-plugin.sh)"
export FLANNEL_CNI_PLUGIN="$plugin"
export FLANNEL_KUBE_TEST_SERVER="$PWD/tests/Flannel.Kube.TestServer/bin/Release/net10.0/kube-test-server"
exec bench/Flannel.Bench.Switch/bin/Release/net10.0/Flannel.Bench.Switch "$@"
