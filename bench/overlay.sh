#!/usr/bin/env bash
# Overlay benchmark (root): underlay veth host to host, kernel vxlan and host-gw pod to pod, and our udp tunnel pod to
# pod, on the same two-host topology in network namespaces; each kernel path configured by hand and with the real
# flanneld agents configuring it. Prints one JSON line per path with medians of RUNS runs (every run measures every
# path in turn, so paths compared with each other are interleaved in time):
#   tcp1_gbps, tcp4_gbps        iperf3 TCP, 1 and 4 streams (received); tcp1_runs, tcp4_runs: each run's figure
#   udp64_max_pps               64-byte UDP, unlimited sender (received packets/s)
#   udp64_pps, udp64_loss_pct   64-byte UDP offered at a fixed rate (UDP64_PPS, default 0.8 x vxlan's max)
#   ping_avg_ms, ping_p99_ms    PING_COUNT pings at 10 ms intervals (the goal's measure)
#   ping_1ms_avg_ms             PING_COUNT pings at 1 ms intervals: the same path with the vCPUs kept awake, which
#                               separates the cost of waking a halted vCPU (paid per thread hand-off) from the path's own work
#   cpu_s, rss_mib              (udp, agent-*) CPU seconds of both tunnel/agent processes per run, largest peak RSS
#   reconcile_runs              (agent-*) reconcile passes both agents made while the path was measured
# Paths: underlay; vxlan, host-gw, udp (configured by hand; udp = the standalone tests/Flannel.TunnelHost on each host);
# agent-vxlan, agent-host-gw, agent-udp (flanneld on each host with that backend, mutual TLS, default flags, leasing
# the subnets the pods are in; the udp tunnel inside flanneld runs with the same defaults as Flannel.TunnelHost).
# vxlan-fwd, host-gw-fwd: the by-hand path plus the FORWARD rules flanneld writes (the same iptables rule text, chain
# FLANNEL-FWD), so the cost of those rules is measured apart from the agent.
# agent-vxlan-paused, agent-host-gw-paused: the same agents, SIGSTOPped once settled, so the kernel holds exactly what
# they configured (device, routes, forward rules) and no agent runs: against agent-* it isolates what running the agent
# costs the pods; against the by-hand path, what the agent's configuration costs.
# udp-bpf: flanneld on each host with the udp backend on its TC-BPF path (--udp-datapath bpf); agent-udp runs flanneld
# with --udp-datapath tun, so it stays the user-space tunnel it always measured.
# With FLANNEL_SRC set to a flannel checkout, the path "flannel-udp" (flannel's own udp backend: its C proxy, built
# from that checkout, on both hosts) is measured too, after the others: the figures the udp path has to beat.
# Environment: RUNS (3), SECONDS_PER_TEST (5), PING_COUNT (300), UDP64_PPS, QUEUES, PATHS ("underlay vxlan udp"),
#   MEASURES ("tcp udp64 ping": which kinds to measure; the fields of the others are null), ORDER ("same", or
#   "alternate": every other run measures the paths in reverse order, so no path always goes first),
#   SETTLE (10: seconds the udp and agent-* paths wait after their processes are ready, so their start-up work (JIT
#   tiering, joining the cluster) is not measured as the path's cost; the same for both, so they compare fairly),
#   UDP_EXTRA_ARGS (Flannel.TunnelHost flags, e.g. --no-offload, --spin-us 0, --nice 0; flanneld has no such flags, so
#   the agent-udp path refuses to run with them), AGENT_EXTRA_ARGS (flanneld flags), AGENT_ENV (NAME=VALUE words for
#   flanneld's environment only), FLANNEL_SRC, FLANNELD (the flanneld executable of the agent-* paths; default: this
#   tree's `dotnet build` output; bench/footprint.sh passes the shipped NativeAOT form).
# A failed measurement (iperf3 or ping) ends the run with an error naming the path, run and step; nothing failed enters
# a median. The underlay is 198.18.77.0/24 (the benchmarking range, as the demo), inside the namespaces only.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "overlay.sh: run as root" >&2; exit 1; }
for c in iperf3 jq ip ping; do command -v $c >/dev/null || { echo "overlay.sh: $c missing (scripts/prereqs.sh)" >&2; exit 1; }; done

RUNS=${RUNS:-3}
SECS=${SECONDS_PER_TEST:-5}
PING_COUNT=${PING_COUNT:-300}
PATHS=${PATHS:-underlay vxlan udp}
MEASURES=${MEASURES:-tcp udp64 ping}
measures() { [[ " $MEASURES " == *" $1 "* ]]; }
if [ -n "${FLANNEL_SRC:-}" ] && [[ " $PATHS " != *" flannel-udp "* ]]; then PATHS="$PATHS flannel-udp"; fi
TAG=fb$(($$ % 100000))
WORK=$(mktemp -d)
if [ -n "${QUEUES:-}" ]; then UDP_EXTRA_ARGS="${UDP_EXTRA_ARGS:-} --queues $QUEUES"; fi
if [[ " $PATHS " == *" agent-udp "* ]] && [ -n "${UDP_EXTRA_ARGS:-}" ]; then
  echo "overlay.sh: UDP_EXTRA_ARGS/QUEUES change Flannel.TunnelHost only; agent-udp would not run with the same flags" >&2; exit 1
fi

dotnet build tests/Flannel.TunnelHost -c Release -nologo -v q -clp:ErrorsOnly >&2
TUNNEL_HOST="dotnet $PWD/tests/Flannel.TunnelHost/bin/Release/net10.0/Flannel.TunnelHost.dll"
if [[ -z "${FLANNELD:-}" && ( " $PATHS " == *" agent-"* || " $PATHS " == *" udp-bpf "* ) ]]; then
  dotnet build src/Flannel.Host -c Release -nologo -v q -clp:ErrorsOnly >&2
  FLANNELD=$PWD/src/Flannel.Host/bin/Release/net10.0/flanneld
fi
for p in $PATHS; do
  case $p in agent-udp-paused) echo "overlay.sh: agent-udp-paused: a paused udp agent carries nothing (its tunnel is in the process)" >&2; exit 1 ;; esac
done

source bench/overlay/topology.sh
source bench/overlay/measure.sh
source bench/overlay/agent.sh
# A failed iperf3 or ping must end the run naming path, run and step, never enter a median as 0 (selfcheck.sh).
bench/overlay/selfcheck.sh

cleanup() {
  # iperf3 -D daemons outlive their namespace: end them by the PIDs they wrote.
  for f in "$WORK"/iperf-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  udp_down 2>/dev/null || true
  agent_down 2>/dev/null || true
  topo_down
  rm -rf "$WORK"
}
trap cleanup EXIT
if [[ " $PATHS " == *" flannel-udp "* ]]; then
  [ -n "${FLANNEL_SRC:-}" ] || { echo "overlay.sh: the flannel-udp path needs FLANNEL_SRC (a flannel checkout)" >&2; exit 1; }
  flannel_udp_build
fi
topo_up
if [[ " $PATHS " == *" agent-"* || " $PATHS " == *" udp-bpf "* ]]; then agent_credentials; fi
for ns in $H2 $P2; do ip netns exec "$ns" iperf3 -s -D -p 5201 -I "$WORK/iperf-$ns.pid"; done
sleep 0.5

path_up() {
  case $1 in
    vxlan) vxlan_up ;; host-gw) hostgw_up ;; flannel-udp) flannel_udp_up "1 2" ;;
    vxlan-fwd) vxlan_up && forward_rules_up ;; host-gw-fwd) hostgw_up && forward_rules_up ;;
    udp) udp_up && sleep "${SETTLE:-10}" ;;
    agent-udp) AGENT_DATAPATH=tun agent_up udp && sleep "${SETTLE:-10}" ;;
    udp-bpf) AGENT_DATAPATH=bpf agent_up udp && sleep "${SETTLE:-10}" ;;
    agent-*-paused) local b=${1#agent-}; agent_up "${b%-paused}" && sleep "${SETTLE:-10}" && agent_pause ;;
    agent-*) agent_up "${1#agent-}" && sleep "${SETTLE:-10}" ;;
  esac
}
path_down() {
  case $1 in
    vxlan) vxlan_down ;;
    host-gw) hostgw_down ;;
    vxlan-fwd) forward_rules_down; vxlan_down ;;
    host-gw-fwd) forward_rules_down; hostgw_down ;;
    agent-*) agent_down ;;
    udp-bpf) agent_down ;;
    udp|flannel-udp) udp_down; nsx $H1 ip link show flannel0 >/dev/null 2>&1 && { echo "flannel0 left behind" >&2; exit 1; }; true ;;
  esac
}
src_of() { [ "$1" = underlay ] && echo $H1 || echo $P1; }
dst_of() { [ "$1" = underlay ] && echo $U2 || echo $POD2; }

# Offered rate for the fixed-rate 64-byte test: 80 % of what vxlan carries with an unlimited sender (median of 3
# tries: single tries varied from 112k to 171k pps on this machine, which moved the offered rate as much).
if measures udp64 && [ -z "${UDP64_PPS:-}" ]; then
  vxlan_up
  ip netns exec $P1 ping -c 2 -i 0.2 -W 1 $POD2 >/dev/null
  MEASURING="vxlan, offered-rate probe"
  for _ in 1 2 3; do v=$(udp64 $P1 $POD2 "$SECS" 0); echo "${v% *}" >>"$WORK/vxlan.premax"; done
  vxlan_down
  UDP64_PPS=$(median <"$WORK/vxlan.premax" | awk '{ printf "%d\n", $1 * 0.8 }')
fi
UDP64_PPS=${UDP64_PPS:-0}
rate_bits=$((UDP64_PPS * 64 * 8))
if measures udp64; then echo "offered 64-byte rate: $UDP64_PPS pps" >&2; fi

# processes_of PATH -> the PIDs whose CPU and memory the path reports (none for the kernel paths configured by hand)
processes_of() { case $1 in udp) echo "${TUNNEL_PIDS[@]}" ;; agent-*|udp-bpf) echo "${AGENT_PIDS[@]}" ;; esac; }
reconcile_runs() {
  local i n=0 r
  for i in 1 2; do
    r=$($FLANNELD ctl --socket "$WORK/agent$i.sock" --json status | jq '.reconcile.runs') || return 1
    n=$((n + r))
  done
  echo $n
}

for run in $(seq 1 "$RUNS"); do
  order=$PATHS
  if [ "${ORDER:-same}" = alternate ] && [ $((run % 2)) = 0 ]; then order=$(tr ' ' '\n' <<<"$PATHS" | tac | tr '\n' ' '); fi
  for path in $order; do
    path_up $path
    src=$(src_of $path) dst=$(dst_of $path)
    MEASURING="$path, run $run"
    ip netns exec "$src" ping -c 3 -i 0.2 -W 1 "$dst" >/dev/null || { echo "overlay.sh: $MEASURING: no connectivity" >&2; exit 1; }
    read -ra pids <<<"$(processes_of $path)"
    t0=$(cpu_ticks "${pids[@]}")
    if [[ $path == agent-* && $path != *-paused ]]; then r0=$(reconcile_runs); fi
    # Each measurement as `v=$(...)`: a failed one ends the run here (set -e), naming the path, run and step.
    if measures tcp; then
      v=$(tcp_gbps "$src" "$dst" 1 "$SECS"); echo "$v" >>"$WORK/$path.tcp1"
      v=$(tcp_gbps "$src" "$dst" 4 "$SECS"); echo "$v" >>"$WORK/$path.tcp4"
    fi
    if measures udp64; then
      v=$(udp64 "$src" "$dst" "$SECS" 0); echo "${v% *}" >>"$WORK/$path.udpmax"
      v=$(udp64 "$src" "$dst" "$SECS" "$rate_bits")
      echo "${v% *}" >>"$WORK/$path.udp"; echo "${v#* }" >>"$WORK/$path.loss"
    fi
    if measures ping; then
      v=$(ping_ms "$src" "$dst" "$PING_COUNT")
      echo "${v% *}" >>"$WORK/$path.pavg"; echo "${v#* }" >>"$WORK/$path.p99"
      v=$(ping_ms "$src" "$dst" "$PING_COUNT" 0.001); echo "${v% *}" >>"$WORK/$path.pwarm"
    fi
    if [ ${#pids[@]} -gt 0 ]; then
      t1=$(cpu_ticks "${pids[@]}")
      awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f\n", t / hz }' >>"$WORK/$path.cpu"
      rss_mib "${pids[@]}" >>"$WORK/$path.rss"
    fi
    if [[ $path == agent-* && $path != *-paused ]]; then echo $(($(reconcile_runs) - r0)) >>"$WORK/$path.reconcile"; fi
    if [ $path = udp ]; then cp "$WORK/tunnel1.json" "$WORK/udp-run$run-tunnel1.json"; fi
    path_down $path
    echo "run $run $path done" >&2
  done
done

# med NAME -> the median of a path's figures, or null when they were not measured
med() { if [ -s "$WORK/$1" ]; then median <"$WORK/$1"; else echo null; fi; }
runs_of() { if [ -s "$WORK/$1" ]; then jq -sc . <"$WORK/$1"; else echo null; fi; }

kernel=$(uname -r)
for path in $PATHS; do
  line=$(jq -cn --arg path $path --arg kernel "$kernel" --argjson runs "$RUNS" --argjson secs "$SECS" \
    --argjson tcp1 "$(med $path.tcp1)" --argjson tcp4 "$(med $path.tcp4)" \
    --argjson tcp1runs "$(runs_of $path.tcp1)" --argjson tcp4runs "$(runs_of $path.tcp4)" \
    --argjson udpmax "$(med $path.udpmax)" --argjson udp "$(med $path.udp)" \
    --argjson loss "$(med $path.loss)" --argjson offered "$UDP64_PPS" \
    --argjson pavg "$(med $path.pavg)" --argjson p99 "$(med $path.p99)" \
    --argjson pwarm "$(med $path.pwarm)" \
    'def r2: if . == null then null else (. * 100 | round / 100) end;
     {path: $path, tcp1_gbps: ($tcp1 | r2), tcp4_gbps: ($tcp4 | r2),
      tcp1_runs: ($tcp1runs | if . == null then null else map(r2) end), tcp4_runs: ($tcp4runs | if . == null then null else map(r2) end),
      udp64_pps: ($udp | if . == null then null else round end), udp64_loss_pct: $loss,
      udp64_offered_pps: (if $udp == null then null else $offered end), udp64_max_pps: ($udpmax | if . == null then null else round end),
      ping_avg_ms: $pavg, ping_p99_ms: $p99, ping_1ms_avg_ms: $pwarm, runs: $runs, seconds_per_test: $secs, kernel: $kernel}')
  if [ -s "$WORK/$path.cpu" ]; then
    line=$(jq -c --argjson cpu "$(med $path.cpu)" --argjson rss "$(med $path.rss)" '. + {cpu_s: $cpu, rss_mib: $rss}' <<<"$line")
  fi
  if [ -s "$WORK/$path.reconcile" ]; then
    line=$(jq -c --argjson n "$(med $path.reconcile)" '. + {reconcile_runs: $n}' <<<"$line")
  fi
  if [ $path = udp ]; then
    line=$(jq -c --argjson t "$(cat "$WORK/udp-run$RUNS-tunnel1.json")" \
      '. + {tun_offload: $t.tunOffload, udp_gso: $t.udpGso, udp_gro: $t.udpGro, queues: $t.queues,
            gc_count: $t.gcCount, drops: ($t.drops | with_entries(select(.value > 0)))}' <<<"$line")
  fi
  echo "$line"
done
