#!/usr/bin/env bash
# Overlay benchmark (root): underlay veth host to host, kernel vxlan pod to pod, and our udp tunnel pod to pod, on the
# same two-host topology in network namespaces. Prints one JSON line per path with medians of RUNS runs:
#   tcp1_gbps, tcp4_gbps        iperf3 TCP, 1 and 4 streams (received)
#   udp64_max_pps               64-byte UDP, unlimited sender (received packets/s)
#   udp64_pps, udp64_loss_pct   64-byte UDP offered at a fixed rate (UDP64_PPS, default 0.8 x vxlan's max)
#   ping_avg_ms, ping_p99_ms    PING_COUNT pings at 10 ms intervals (the goal's measure)
#   ping_1ms_avg_ms             PING_COUNT pings at 1 ms intervals: the same path with the vCPUs kept awake, which
#                               separates the cost of waking a halted vCPU (paid per thread hand-off) from the path's own work
#   cpu_s, rss_mib              (udp) CPU seconds of both tunnel processes per run, largest peak RSS
# With FLANNEL_SRC set to a flannel checkout, the path "flannel-udp" (flannel's own udp backend: its C proxy, built
# from that checkout, on both hosts) is measured too, after the others: the figures the udp path has to beat.
# Environment: RUNS (3), SECONDS_PER_TEST (5), PING_COUNT (300), UDP64_PPS, QUEUES, PATHS ("underlay vxlan udp"),
#   UDP_EXTRA_ARGS (Flannel.TunnelHost flags, e.g. --no-offload, --spin-us 0, --nice 0), FLANNEL_SRC.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "overlay.sh: run as root" >&2; exit 1; }
for c in iperf3 jq ip ping; do command -v $c >/dev/null || { echo "overlay.sh: $c missing (scripts/prereqs.sh)" >&2; exit 1; }; done

RUNS=${RUNS:-3}
SECS=${SECONDS_PER_TEST:-5}
PING_COUNT=${PING_COUNT:-300}
PATHS=${PATHS:-underlay vxlan udp}
if [ -n "${FLANNEL_SRC:-}" ] && [[ " $PATHS " != *" flannel-udp "* ]]; then PATHS="$PATHS flannel-udp"; fi
TAG=fb$(($$ % 100000))
WORK=$(mktemp -d)
if [ -n "${QUEUES:-}" ]; then UDP_EXTRA_ARGS="${UDP_EXTRA_ARGS:-} --queues $QUEUES"; fi

dotnet build tests/Flannel.TunnelHost -c Release -nologo -v q -clp:ErrorsOnly >&2
TUNNEL_HOST="dotnet $PWD/tests/Flannel.TunnelHost/bin/Release/net10.0/Flannel.TunnelHost.dll"

source bench/overlay/topology.sh
source bench/overlay/measure.sh

cleanup() {
  # iperf3 -D daemons outlive their namespace: end them by the PIDs they wrote.
  for f in "$WORK"/iperf-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  udp_down 2>/dev/null || true
  topo_down
  rm -rf "$WORK"
}
trap cleanup EXIT
if [[ " $PATHS " == *" flannel-udp "* ]]; then
  [ -n "${FLANNEL_SRC:-}" ] || { echo "overlay.sh: the flannel-udp path needs FLANNEL_SRC (a flannel checkout)" >&2; exit 1; }
  flannel_udp_build
fi
topo_up
for ns in $H2 $P2; do ip netns exec "$ns" iperf3 -s -D -p 5201 -I "$WORK/iperf-$ns.pid"; done
sleep 0.5

path_up() { case $1 in vxlan) vxlan_up ;; udp) udp_up ;; flannel-udp) flannel_udp_up "1 2" ;; esac; }
path_down() {
  case $1 in
    vxlan) vxlan_down ;;
    udp|flannel-udp) udp_down; nsx $H1 ip link show flannel0 >/dev/null 2>&1 && { echo "flannel0 left behind" >&2; exit 1; }; true ;;
  esac
}
src_of() { [ "$1" = underlay ] && echo $H1 || echo $P1; }
dst_of() { [ "$1" = underlay ] && echo $U2 || echo $POD2; }

# Offered rate for the fixed-rate 64-byte test: 80 % of what vxlan carries with an unlimited sender (median of 3
# tries: single tries varied from 112k to 171k pps on this machine, which moved the offered rate as much).
if [ -z "${UDP64_PPS:-}" ]; then
  vxlan_up
  ip netns exec $P1 ping -c 2 -i 0.2 -W 1 $POD2 >/dev/null
  for _ in 1 2 3; do read -r max _ < <(udp64 $P1 $POD2 "$SECS" 0); echo "$max"; done >"$WORK/vxlan.premax"
  vxlan_down
  UDP64_PPS=$(median <"$WORK/vxlan.premax" | awk '{ printf "%d\n", $1 * 0.8 }')
fi
rate_bits=$((UDP64_PPS * 64 * 8))
echo "offered 64-byte rate: $UDP64_PPS pps" >&2

for run in $(seq 1 "$RUNS"); do
  for path in $PATHS; do
    path_up $path
    src=$(src_of $path) dst=$(dst_of $path)
    ip netns exec "$src" ping -c 3 -i 0.2 -W 1 "$dst" >/dev/null || { echo "$path: no connectivity" >&2; exit 1; }
    t0=$(cpu_ticks "${TUNNEL_PIDS[@]}")
    tcp_gbps "$src" "$dst" 1 "$SECS" >>"$WORK/$path.tcp1"
    tcp_gbps "$src" "$dst" 4 "$SECS" >>"$WORK/$path.tcp4"
    read -r pps _ < <(udp64 "$src" "$dst" "$SECS" 0); echo "$pps" >>"$WORK/$path.udpmax"
    read -r pps loss < <(udp64 "$src" "$dst" "$SECS" "$rate_bits")
    echo "$pps" >>"$WORK/$path.udp"; echo "$loss" >>"$WORK/$path.loss"
    read -r avg p99 < <(ping_ms "$src" "$dst" "$PING_COUNT")
    echo "$avg" >>"$WORK/$path.pavg"; echo "$p99" >>"$WORK/$path.p99"
    read -r avg _ < <(ping_ms "$src" "$dst" "$PING_COUNT" 0.001); echo "$avg" >>"$WORK/$path.pwarm"
    if [ $path = udp ]; then
      t1=$(cpu_ticks "${TUNNEL_PIDS[@]}")
      awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f\n", t / hz }' >>"$WORK/udp.cpu"
      rss_mib "${TUNNEL_PIDS[@]}" >>"$WORK/udp.rss"
      cp "$WORK/tunnel1.json" "$WORK/udp-run$run-tunnel1.json"
    fi
    path_down $path
    echo "run $run $path done" >&2
  done
done

kernel=$(uname -r)
for path in $PATHS; do
  line=$(jq -cn --arg path $path --arg kernel "$kernel" --argjson runs "$RUNS" --argjson secs "$SECS" \
    --argjson tcp1 "$(median <"$WORK/$path.tcp1")" --argjson tcp4 "$(median <"$WORK/$path.tcp4")" \
    --argjson udpmax "$(median <"$WORK/$path.udpmax")" --argjson udp "$(median <"$WORK/$path.udp")" \
    --argjson loss "$(median <"$WORK/$path.loss")" --argjson offered "$UDP64_PPS" \
    --argjson pavg "$(median <"$WORK/$path.pavg")" --argjson p99 "$(median <"$WORK/$path.p99")" \
    --argjson pwarm "$(median <"$WORK/$path.pwarm")" \
    '{path: $path, tcp1_gbps: ($tcp1 * 100 | round / 100), tcp4_gbps: ($tcp4 * 100 | round / 100),
      udp64_pps: ($udp | round), udp64_loss_pct: $loss, udp64_offered_pps: $offered, udp64_max_pps: ($udpmax | round),
      ping_avg_ms: $pavg, ping_p99_ms: $p99, ping_1ms_avg_ms: $pwarm, runs: $runs, seconds_per_test: $secs, kernel: $kernel}')
  if [ $path = udp ]; then
    line=$(jq -c --argjson cpu "$(median <"$WORK/udp.cpu")" --argjson rss "$(median <"$WORK/udp.rss")" \
      --argjson t "$(cat "$WORK/udp-run$RUNS-tunnel1.json")" \
      '. + {cpu_s: $cpu, rss_mib: $rss, tun_offload: $t.tunOffload, udp_gso: $t.udpGso, udp_gro: $t.udpGro, queues: $t.queues,
            gc_count: $t.gcCount, drops: ($t.drops | with_entries(select(.value > 0)))}' <<<"$line")
  fi
  echo "$line"
done
