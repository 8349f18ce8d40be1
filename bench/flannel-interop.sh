#!/usr/bin/env bash
# Interop check (root) of our udp backend against flannel's own udp data path and between our two udp data paths, on
# bench/overlay.sh's topology (two host namespaces on a veth underlay, a pod behind a bridge on each). One case per
# word of CASES, "HOST1:HOST2", host 1 always ours:
#   tun:flannel             host 1 our TUN tunnel (Flannel.TunnelHost, offloads on), host 2 flannel's C data path
#   tun-no-offload:flannel  the same with --no-offload
#   bpf:flannel             host 1 flanneld with --udp-datapath bpf (the TC-BPF path), host 2 flannel's C data path.
#                           flanneld needs its peers from somewhere: it runs in Kubernetes mode against kube-test-server
#                           and sees host 2 as a Node carrying upstream flannel's annotations (backend-type udp), as a
#                           cluster half on upstream flannel is seen (bench/overlay/agent.sh agent_kube_up)
#   bpf:tun                 flanneld on both hosts (mutual TLS, one cluster), host 1 --udp-datapath bpf, host 2 tun
# flannel's data path is backend/udp/proxy*.c from a flannel checkout (FLANNEL_SRC, e.g. tag v0.7.1; never copied into
# this repository), built with bench/overlay/flannel-udp-main.c; only the :flannel cases need it.
# Every case: pings both ways, a full-MTU ping with DF (1444 bytes of payload = 1472, the tunnel MTU), 100 MiB each
# way compared by SHA-256, single-stream TCP each way, our drop counters; the bpf cases also check that host 1 runs the
# BPF path and that the kernel decapsulated the peer's packets (its bpf rx counter). Prints one JSON line per case;
# exits 1 when anything did not arrive intact or a check failed.
#   FLANNEL_SRC=/tmp/flannel-v0.7.1 bash bench/flannel-interop.sh
#   CASES="bpf:tun" bash bench/flannel-interop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "flannel-interop.sh: run as root" >&2; exit 1; }
for c in iperf3 jq ip ping python3; do command -v $c >/dev/null || { echo "flannel-interop.sh: $c missing" >&2; exit 1; }; done
CASES=${CASES:-tun:flannel tun-no-offload:flannel bpf:flannel bpf:tun}
for c in $CASES; do
  case $c in tun:flannel|tun-no-offload:flannel|bpf:flannel|bpf:tun) ;;
    *) echo "flannel-interop.sh: CASES: unknown case '$c' (tun:flannel tun-no-offload:flannel bpf:flannel bpf:tun)" >&2; exit 1 ;;
  esac
done
if [[ " $CASES " == *":flannel "* ]] && [ -z "${FLANNEL_SRC:-}" ]; then
  echo "flannel-interop.sh: set FLANNEL_SRC to a flannel checkout (with backend/udp), or CASES=bpf:tun" >&2; exit 1
fi

TAG=fi$(($$ % 100000))
WORK=$(mktemp -d)
dotnet build tests/Flannel.TunnelHost -c Release -nologo -v q -clp:ErrorsOnly >&2
TUNNEL_HOST="dotnet $PWD/tests/Flannel.TunnelHost/bin/Release/net10.0/Flannel.TunnelHost.dll"
if [[ " $CASES " == *" bpf:"* ]]; then
  dotnet build src/Flannel.Host -c Release -nologo -v q -clp:ErrorsOnly >&2
  dotnet build tests/Flannel.Kube.TestServer -c Release -nologo -v q -clp:ErrorsOnly >&2
  FLANNELD=$PWD/src/Flannel.Host/bin/Release/net10.0/flanneld
  KUBE_TEST_SERVER=$PWD/tests/Flannel.Kube.TestServer/bin/Release/net10.0/kube-test-server
fi
source bench/overlay/topology.sh
source bench/overlay/measure.sh
source bench/overlay/agent.sh

cleanup() {
  for f in "$WORK"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  udp_down 2>/dev/null || true
  agent_down 2>/dev/null || true
  topo_down
  rm -rf "$WORK"
}
trap cleanup EXIT
if [[ " $CASES " == *":flannel "* ]]; then flannel_udp_build; fi
topo_up
if [[ " $CASES " == *" bpf:"* ]]; then agent_credentials; fi
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

# ctl_json HOST PALETTE: `flanneld ctl --json PALETTE` against the agent on HOST.
ctl_json() { $FLANNELD ctl --socket "$WORK/agent$1.sock" --json "$2"; }

# case_up CASE: starts both sides of CASE.
case_up() {
  case $1 in
    tun:flannel) UDP_EXTRA_ARGS="" udp_up 1 && flannel_udp_up 2 ;;
    tun-no-offload:flannel) UDP_EXTRA_ARGS="--no-offload" udp_up 1 && flannel_udp_up 2 ;;
    # flannel's side first: the agent is ready only with its peer programmed.
    bpf:flannel) flannel_udp_up 2 && agent_kube_up 1 bpf ;;
    bpf:tun) AGENT_DATAPATH_1=bpf AGENT_DATAPATH_2=tun agent_up udp ;;
  esac
}

# case_state CASE -> JSON {datapath_1, datapath_2, drops, bpf}: what our side(s) ran and counted (drops: the user-space
# path's non-zero drop counters by reason, both our hosts; bpf: host 1's BPF counters).
case_state() {
  case $1 in
    tun*) sleep 0.6   # one stats interval of Flannel.TunnelHost, so the counters include the transfers
          jq -c '{datapath_1: "tun", datapath_2: "flannel", drops: (.drops | with_entries(select(.value > 0))), bpf: null}' "$WORK/tunnel1.json" ;;
    *) local s1 p1 s2=null p2='{"drops": []}'
       s1=$(ctl_json 1 status) && p1=$(ctl_json 1 peers) || return 1
       if [ "${1#*:}" = tun ]; then s2=$(ctl_json 2 status) && p2=$(ctl_json 2 peers) || return 1; fi
       # ctl lists the BPF programs' fallbacks (handed to the user-space path, not lost) beside the drops.
       jq -cn --argjson s1 "$s1" --argjson p1 "$p1" --argjson s2 "$s2" --argjson p2 "$p2" --arg other "${1#*:}" \
         '([($p1.drops[] | {key: "h1 \(.direction) \(.reason)", value: .count}),
            ($p2.drops[] | {key: "h2 \(.direction) \(.reason)", value: .count})] | map(select(.value > 0))) as $all
          | {datapath_1: $s1.udpDatapath, datapath_2: (if $s2 == null then $other else $s2.udpDatapath end),
             drops: ($all | map(select(.key | test("bpf_fallback_") | not)) | from_entries),
             bpf: ($p1.tunnel.bpf + {fallbacks: ($all | map(select(.key | test("bpf_fallback_")) | .key |= sub("bpf_fallback_"; "")) | from_entries)})}' ;;
  esac
}

case_down() { case $1 in tun*) udp_down ;; *) udp_down; agent_down ;; esac; }

ok=1
for c in $CASES; do
  MEASURING="interop, $c"
  if ! case_up "$c"; then
    echo "flannel-interop.sh: $c: did not start" >&2
    jq -cn --arg case "$c" '{case: $case, started: false}'
    ok=0; case_down "$c"; continue
  fi
  loss12=$(ip netns exec $P1 ping -c 20 -i 0.05 -W 1 -q $POD2 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' || true)
  loss21=$(ip netns exec $P2 ping -c 20 -i 0.05 -W 1 -q $POD1 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' || true)
  # 1444 bytes of ICMP payload + 28 of headers = the tunnel MTU, 1472, with DF: must pass unfragmented, both ways.
  lossmtu12=$(ip netns exec $P1 ping -c 5 -i 0.1 -W 1 -s 1444 -M do -q $POD2 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' || true)
  lossmtu21=$(ip netns exec $P2 ping -c 5 -i 0.1 -W 1 -s 1444 -M do -q $POD1 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' || true)
  loss12=${loss12:-100} loss21=${loss21:-100} lossmtu12=${lossmtu12:-100} lossmtu21=${lossmtu21:-100}
  read -r s12 r12 n12 < <(transfer $P1 $P2 $POD2 100)
  read -r s21 r21 n21 < <(transfer $P2 $P1 $POD1 100)
  tcp12=$(tcp_gbps $P1 $POD2 1 5) || tcp12=null
  tcp21=$(tcp_gbps $P2 $POD1 1 5) || tcp21=null
  state=$(case_state "$c") || state='{"datapath_1": null, "datapath_2": null, "drops": {"state": -1}, "bpf": null}'
  case_down "$c"
  intact12=false intact21=false
  [ "$s12" = "$r12" ] && [ "$n12" = 104857600 ] && intact12=true
  [ "$s21" = "$r21" ] && [ "$n21" = 104857600 ] && intact21=true
  jq -cn --arg case "$c" --arg l12 "$loss12" --arg l21 "$loss21" --arg lm12 "$lossmtu12" --arg lm21 "$lossmtu21" \
    --argjson i12 $intact12 --argjson i21 $intact21 --argjson t12 "$tcp12" --argjson t21 "$tcp21" --argjson state "$state" \
    --arg kernel "$(uname -r)" \
    '{case: $case, host1: $state.datapath_1, host2: $state.datapath_2, ping_loss_pct_1to2: ($l12 | tonumber),
      ping_loss_pct_2to1: ($l21 | tonumber), mtu_df_ping_loss_pct_1to2: ($lm12 | tonumber), mtu_df_ping_loss_pct_2to1: ($lm21 | tonumber),
      transfer_100mib_intact_1to2: $i12, transfer_100mib_intact_2to1: $i21,
      tcp1_gbps_1to2: (if $t12 == null then null else ($t12 * 100 | round / 100) end),
      tcp1_gbps_2to1: (if $t21 == null then null else ($t21 * 100 | round / 100) end),
      our_drops: $state.drops, bpf_1: $state.bpf, kernel: $kernel}'
  failed=()
  [ "$loss12" = 0 ] && [ "$loss21" = 0 ] || failed+=("ping loss")
  [ "$lossmtu12" = 0 ] && [ "$lossmtu21" = 0 ] || failed+=("full-MTU DF ping loss")
  [ $intact12 = true ] && [ $intact21 = true ] || failed+=("100 MiB not intact")
  [ "$tcp12" != null ] && [ "$tcp21" != null ] || failed+=("iperf3")
  # The TUN's own IPv6 router solicitations are the only drops expected (not_ipv4 / NotIpv4).
  [ "$(jq '.drops | with_entries(select(.key | test("not_?ipv4"; "i") | not)) | length' <<<"$state")" = 0 ] || failed+=("drops")
  expect1=${c%%:*}; expect1=${expect1%-no-offload} expect2=${c#*:}
  [ "$(jq -r .datapath_1 <<<"$state")" = "$expect1" ] && [ "$(jq -r .datapath_2 <<<"$state")" = "$expect2" ] ||
    failed+=("data paths $(jq -r '"\(.datapath_1):\(.datapath_2)"' <<<"$state"), expected $expect1:$expect2")
  # On the BPF path the kernel, not the TUN path, must have decapsulated what the peer sent (pings, the transfers).
  if [ "$expect1" = bpf ] && ! jq -e '.bpf.rxPackets > 1000' <<<"$state" >/dev/null; then failed+=("bpf rx counter"); fi
  if [ ${#failed[@]} -gt 0 ]; then
    echo "flannel-interop.sh: $c FAILED: ${failed[*]}" >&2
    ok=0
  fi
done
[ $ok = 1 ] || { echo "flannel-interop.sh: FAILED (see the lines above)" >&2; exit 1; }
