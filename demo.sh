#!/usr/bin/env bash
# The main job: builds flanneld and the native `flannel` CNI plugin, runs a local 3-host flannel cluster in network
# namespaces (pods made by the CNI plugin, ping matrix, iperf3), then cleans up. Idempotent; needs root.
# Usage: ./demo.sh [--backend udp|vxlan|host-gw] [--hosts N] [--logs DIR]
#        ./demo.sh --kube   (the seed tutorial with the image: deploy/build-image.sh, the test API server, kubectl apply -f
#                            deploy/kube-flannel.yml, the DaemonSet run by podman through a minimal kubelet on each host,
#                            the tutorial's kubectl checks, guestbook pods, live backend switch by kubectl patch)
#        ./demo.sh --kube-processes   (the fast path: agents as processes with --kube-subnet-mgr, no image)
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
kube=0; processes=0; args=()
for a in "$@"; do
  case "$a" in
    --kube) kube=1 ;;
    # The fast kube path is a kind of kube run: alone it used to fall through to the plain demo without a word.
    --kube-processes) kube=1; processes=1 ;;
    *) args+=("$a") ;;
  esac
done
if ((kube)); then args+=(--kube); fi
if ((kube)); then
  echo "demo: building the test API server (Release)"
  dotnet build tests/Flannel.Kube.TestServer -c Release -nologo -v q -clp:ErrorsOnly
  export FLANNEL_KUBE_TEST_SERVER="$PWD/tests/Flannel.Kube.TestServer/bin/Release/net10.0/kube-test-server"
  if ((!processes)); then
    echo "demo: building the image (deploy/build-image.sh) and the minimal kubelet"
    deploy/build-image.sh
    dotnet build tests/Flannel.MiniKubelet -c Release -nologo -v q -clp:ErrorsOnly
    export FLANNEL_MINI_KUBELET="$PWD/tests/Flannel.MiniKubelet/bin/Release/net10.0/mini-kubelet"
  else
    unset FLANNEL_MINI_KUBELET
  fi
fi
exec src/Flannel.Demo/bin/Release/net10.0/flannel-demo "${args[@]}"
