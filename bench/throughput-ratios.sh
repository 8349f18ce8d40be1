#!/usr/bin/env bash
# What running flanneld costs the data path (root). One bench/overlay.sh run (TCP only) measures, interleaved in every
# run (the order reversed every other run), each kernel path configured by hand with no agent against the same path
# configured by the running flanneld agents, and the standalone udp tunnel host against flanneld's udp backend, on the
# same two-host topology. Prints one JSON line per backend, figures are medians of RUNS runs:
#   {"backend":"vxlan","tcp1_ratio_vs_no_agent":..,"tcp4_ratio_vs_no_agent":..,"tcp1_gbps_agent":..,"tcp1_gbps_no_agent":..,
#    "tcp4_gbps_agent":..,"tcp4_gbps_no_agent":..,"tcp1_run_ratios":[..],"tcp4_run_ratios":[..],"agent_cpu_s":..,...}
#   {"backend":"host-gw",...same fields...}
#   vxlan and host-gw also carry *_vs_paused_agent: the running agents against the same agents SIGSTOPped (the kernel
#   state they configured, nothing running), which separates the agent's running cost from its configuration's.
#   {"backend":"udp","udp_agent_vs_tunnelhost":..(1 stream),"udp_agent_vs_tunnelhost_tcp4":..,"tcp1_gbps_agent":..,
#    "tcp1_gbps_tunnelhost":..,...,"agent_cpu_s":..,"tunnelhost_cpu_s":..}
# A ratio is median(with agent) / median(without) over the same run; *_run_ratios are each run's pair, for the spread.
# bench/footprint.sh merges these lines into its own by "backend": keep the field names.
# Environment: RUNS (3), SECONDS_PER_TEST (5), BACKENDS ("vxlan host-gw udp"), SETTLE (10), AGENT_EXTRA_ARGS,
#   AGENT_ENV (see bench/overlay.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "throughput-ratios.sh: run as root" >&2; exit 1; }

BACKENDS=${BACKENDS:-vxlan host-gw udp}
paths=""
for b in $BACKENDS; do
  case $b in vxlan|host-gw) paths="$paths $b agent-$b agent-$b-paused" ;; udp) paths="$paths $b agent-$b" ;; *) echo "throughput-ratios.sh: BACKENDS: unknown backend '$b'" >&2; exit 1 ;; esac
done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
out=$(PATHS="${paths# }" MEASURES=tcp ORDER=alternate bash bench/overlay.sh)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

for b in $BACKENDS; do
  without=$(jq -c --arg p "$b" 'select(.path == $p)' <<<"$out")
  with=$(jq -c --arg p "agent-$b" 'select(.path == $p)' <<<"$out")
  paused=$(jq -c --arg p "agent-$b-paused" 'select(.path == $p)' <<<"$out"); paused=${paused:-null}
  jq -cn --arg b "$b" --argjson a "$with" --argjson n "$without" --argjson s "$paused" --arg l0 "$load_start" --arg l1 "$load_end" '
    def ratio(x; y): if y > 0 then (x / y * 1000 | round / 1000) else null end;
    def pairs(k): [range(0; $a[k] | length) | ratio($a[k][.]; $n[k][.])];
    {backend: $b}
    + (if $b == "udp" then
         {udp_agent_vs_tunnelhost: ratio($a.tcp1_gbps; $n.tcp1_gbps), udp_agent_vs_tunnelhost_tcp4: ratio($a.tcp4_gbps; $n.tcp4_gbps),
          tcp1_gbps_agent: $a.tcp1_gbps, tcp1_gbps_tunnelhost: $n.tcp1_gbps,
          tcp4_gbps_agent: $a.tcp4_gbps, tcp4_gbps_tunnelhost: $n.tcp4_gbps, tunnelhost_cpu_s: $n.cpu_s}
       else
         {tcp1_ratio_vs_no_agent: ratio($a.tcp1_gbps; $n.tcp1_gbps), tcp4_ratio_vs_no_agent: ratio($a.tcp4_gbps; $n.tcp4_gbps),
          tcp1_gbps_agent: $a.tcp1_gbps, tcp1_gbps_no_agent: $n.tcp1_gbps,
          tcp4_gbps_agent: $a.tcp4_gbps, tcp4_gbps_no_agent: $n.tcp4_gbps,
          tcp1_ratio_vs_paused_agent: ratio($a.tcp1_gbps; $s.tcp1_gbps), tcp4_ratio_vs_paused_agent: ratio($a.tcp4_gbps; $s.tcp4_gbps),
          tcp1_gbps_paused_agent: $s.tcp1_gbps, tcp4_gbps_paused_agent: $s.tcp4_gbps,
          tcp1_run_ratios_vs_paused: [range(0; $a.tcp1_runs | length) | ratio($a.tcp1_runs[.]; $s.tcp1_runs[.])],
          tcp4_run_ratios_vs_paused: [range(0; $a.tcp4_runs | length) | ratio($a.tcp4_runs[.]; $s.tcp4_runs[.])]}
       end)
    + {tcp1_run_ratios: pairs("tcp1_runs"), tcp4_run_ratios: pairs("tcp4_runs"), agent_cpu_s: $a.cpu_s,
       agent_reconcile_runs: $a.reconcile_runs, runs: $a.runs, seconds_per_test: $a.seconds_per_test,
       loadavg_start: $l0, loadavg_end: $l1}'
done
