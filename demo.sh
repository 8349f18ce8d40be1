#!/usr/bin/env bash
# The main job: builds flanneld and the native `flannel` CNI plugin, runs a local 3-host flannel cluster in network
# namespaces (pods made by the CNI plugin, ping matrix, iperf3), then cleans up. Idempotent; needs root.
# Usage: ./demo.sh [--backend udp|vxlan|host-gw] [--hosts N] [--logs DIR]
#        ./demo.sh --kube   (Kubernetes mode: test API server, --kube-subnet-mgr agents, live backend switch by kubectl patch)
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" != 0 ]; then echo "demo: run as root (network namespaces, TUN, routes)" >&2; exit 1; fi
./scripts/prereqs.sh
echo "demo: building flanneld (Release)"
# The demo is its own executable (src/Flannel.Demo, flannel-demo); building it builds flanneld beside it.
dotnet build src/Flannel.Demo -c Release -nologo -v q -clp:ErrorsOnly
echo "demo: publishing the native flannel CNI plugin"
plugin="$(./scripts/cni-plugin.sh)"
export FLANNEL_CNI_PLUGIN="$plugin"
for a in "$@"; do
  if [ "$a" = --kube ]; then
    echo "demo: building the test API server (Release)"
    dotnet build tests/Flannel.Kube.TestServer -c Release -nologo -v q -clp:ErrorsOnly
    export FLANNEL_KUBE_TEST_SERVER="$PWD/tests/Flannel.Kube.TestServer/bin/Release/net10.0/kube-test-server"
  fi
done
exec src/Flannel.Demo/bin/Release/net10.0/flannel-demo "$@"
