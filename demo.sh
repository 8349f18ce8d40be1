#!/usr/bin/env bash
# The main job: builds flanneld and runs a local 3-host flannel cluster in network namespaces (pods made by the CNI
# plugin, ping matrix, iperf3), then cleans up. Idempotent; needs root.
# Usage: ./demo.sh [--backend udp|vxlan|host-gw] [--hosts N] [--logs DIR]
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" != 0 ]; then echo "demo: run as root (network namespaces, TUN, routes)" >&2; exit 1; fi
./scripts/prereqs.sh
echo "demo: building flanneld (Release)"
dotnet build src/Flannel.Host -c Release -nologo -v q -clp:ErrorsOnly
exec src/Flannel.Host/bin/Release/net10.0/flanneld demo "$@"
