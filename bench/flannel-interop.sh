#!/usr/bin/env bash
# Interop check (root) against flannel's own udp backend: host 1 runs our tunnel (Flannel.TunnelHost), host 2 runs
# flannel's C data path (backend/udp/proxy*.c from a flannel checkout, FLANNEL_SRC, built with
# bench/overlay/flannel-udp-main.c), on bench/overlay.sh's topology. Once with our offloads on, once with --no-offload:
# pings both ways (also full-MTU with DF), 100 MB each way compared by SHA-256, single-stream TCP each way, and our drop
# counters. Prints one JSON line per mode; exits 1 when anything did not arrive intact.
#   FLANNEL_SRC=~/src/flannel bash bench/flannel-interop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "flannel-interop.sh: run as root" >&2; exit 1; }
[ -n "${FLANNEL_SRC:-}" ] || { echo "flannel-interop.sh: set FLANNEL_SRC to a flannel checkout (with backend/udp)" >&2; exit 1; }
for c in iperf3 jq ip ping python3; do command -v $c >/dev/null || { echo "flannel-interop.sh: $c missing" >&2; exit 1; }; done

TAG=fi$(($$ % 100000))
WORK=$(mktemp -d)
dotnet build tests/Flannel.TunnelHost -c Release -nologo -v q -clp:ErrorsOnly >&2
TUNNEL_HOST="dotnet $PWD/tests/Flannel.TunnelHost/bin/Release/net10.0/Flannel.TunnelHost.dll"
source bench/overlay/topology.sh
source bench/overlay/measure.sh

cleanup() {
  for f in "$WORK"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  udp_down 2>/dev/null || true
  topo_down
  rm -rf "$WORK"
}
trap cleanup EXIT
flannel_udp_build
topo_up
for ns in $P1 $P2; do ip netns exec "$ns" iperf3 -s -D -p 5201 -I "$WORK/iperf-$ns.pid"; done

# transfer FROM_NS TO_NS TO_IP MIB -> "sent_sha256 received_sha256 received_bytes"
transfer() {
  ip netns exec "$2" python3 - "$WORK/received" <<'PY' &
import hashlib, socket, sys
s = socket.create_server(("0.0.0.0", 7777))
c, _ = s.accept()
h, n = hashlib.sha256(), 0
while b := c.recv(1 << 20):
    h.update(b)
    n += len(b)
open(sys.argv[1], "w").write(f"{h.hexdigest()} {n}")
PY
  local server=$!
  sleep 0.5
  local sent
  sent=$(timeout 120 ip netns exec "$1" python3 - "$3" "$4" <<'PY'
import hashlib, random, socket, sys
r, h = random.Random(7), hashlib.sha256()
with socket.create_connection((sys.argv[1], 7777)) as s:
    for _ in range(int(sys.argv[2])):
        b = r.randbytes(1 << 20)
        h.update(b)
        s.sendall(b)
print(h.hexdigest())
PY
) || sent=failed
  local waited=0
  while kill -0 $server 2>/dev/null && [ $waited -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
  kill $server 2>/dev/null || true
  echo "$sent $(cat "$WORK/received" 2>/dev/null || echo "none 0")"
  rm -f "$WORK/received"
}

ok=1
for mode in offload no-offload; do
  extra=""; [ $mode = no-offload ] && extra="--no-offload"
  MEASURING="interop, $mode"
  UDP_EXTRA_ARGS="$extra" udp_up 1
  flannel_udp_up 2
  loss12=$(ip netns exec $P1 ping -c 20 -i 0.05 -W 1 -q $POD2 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' || true)
  loss21=$(ip netns exec $P2 ping -c 20 -i 0.05 -W 1 -q $POD1 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' || true)
  # 1444 bytes of ICMP payload + 28 of headers = the tunnel MTU, 1472, with DF: must pass unfragmented.
  lossmtu=$(ip netns exec $P1 ping -c 5 -i 0.1 -W 1 -s 1444 -M do -q $POD2 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' || true)
  loss12=${loss12:-100} loss21=${loss21:-100} lossmtu=${lossmtu:-100}
  read -r s12 r12 n12 < <(transfer $P1 $P2 $POD2 100)
  read -r s21 r21 n21 < <(transfer $P2 $P1 $POD1 100)
  tcp12=$(tcp_gbps $P1 $POD2 1 5)
  tcp21=$(tcp_gbps $P2 $POD1 1 5)
  sleep 0.6   # one stats interval, so the counters below include the transfers
  drops=$(jq -c '.drops | with_entries(select(.value > 0))' "$WORK/tunnel1.json")
  udp_down
  intact12=false intact21=false
  [ "$s12" = "$r12" ] && [ "$n12" = 104857600 ] && intact12=true
  [ "$s21" = "$r21" ] && [ "$n21" = 104857600 ] && intact21=true
  jq -cn --arg mode $mode --arg l12 "$loss12" --arg l21 "$loss21" --arg lm "$lossmtu" --argjson i12 $intact12 \
    --argjson i21 $intact21 --argjson t12 "$tcp12" --argjson t21 "$tcp21" --argjson drops "$drops" --arg kernel "$(uname -r)" \
    '{ours: "host 1", flannel: "host 2", mode: $mode, ping_loss_pct_1to2: ($l12 | tonumber), ping_loss_pct_2to1: ($l21 | tonumber),
      mtu_df_ping_loss_pct: ($lm | tonumber), transfer_100mib_intact_1to2: $i12, transfer_100mib_intact_2to1: $i21,
      tcp1_gbps_1to2: ($t12 * 100 | round / 100), tcp1_gbps_2to1: ($t21 * 100 | round / 100), our_drops: $drops, kernel: $kernel}'
  if [ "$loss12" != 0 ] || [ "$loss21" != 0 ] || [ "$lossmtu" != 0 ] || [ $intact12 != true ] || [ $intact21 != true ] ||
     [ "$(jq 'del(.NotIpv4) | length' <<<"$drops")" != 0 ]; then
    ok=0
  fi
done
[ $ok = 1 ] || { echo "flannel-interop.sh: FAILED (see the lines above)" >&2; exit 1; }
