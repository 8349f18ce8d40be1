#!/usr/bin/env bash
# Footprint of one idle flanneld agent (root): 3 namespace hosts with the demo topology (mutual TLS), per backend one
# JSON line with the medians of RUNS runs (default 3), each figure from the worst of the 3 agents:
#   rss_mib, anon_mib (RssAnon+RssShmem), file_mib (RssFile), threads     after the cluster settled (SETTLE_SECONDS, 10)
#   idle_cpu_pct (% of one core), wakeups_per_s (voluntary context switches summed over threads)  over IDLE_SECONDS (60);
#   idle_child_cpu_pct: the CPU of the commands the agent ran meanwhile (iptables rule checks every --iptables-resync s)
#   ready_first_s (exec -> /readyz 200 of a cluster's first node), ready_joiner_s (a node joining the running cluster)
#   rss_after_load_mib, anon_after_load_mib   5 s after LOAD_SECONDS (60) of iperf3 TCP pod1 (host 1) -> pod2 (host 2);
#   load_gbps its rate
# Then, when they exist, bench/cni.sh (its fields go into every line; SKIP_CNI=1 skips it) and
# bench/throughput-ratios.sh (its fields go into the line of the same backend; SKIP_THROUGHPUT=1 skips it).
# Usage: bench/footprint.sh [backend ...]   (default udp vxlan host-gw); KEEP_LOGS=DIR keeps the agents' logs;
#   EXTRA_AGENT_ARGS adds flanneld flags (e.g. "--hocon-file /tmp/try.hocon"); DOTNET_* variables reach the agents;
#   the agents always get the DOTNET_* variables deploy/Dockerfile sets (ENV lines), as the image runs them.
#   FLANNELD=path measures another flanneld build (default: the shipped form, published by deploy/publish-flanneld.sh).
#   Each host runs its own copy of the executable (its own page cache, as one agent per node has: the kernel does not page
#   out pages another process maps, so three agents sharing one file would keep each other's start-up pages resident
#   after --release-startup-pages); SHARED_BINARY=1 runs the one file on every host.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "footprint.sh: run as root" >&2; exit 1; }
for c in iperf3 jq ip; do command -v $c >/dev/null || { echo "footprint.sh: $c missing (scripts/prereqs.sh)" >&2; exit 1; }; done

WORK=$(mktemp -d)
BENCH_PID=
cleanup() {
  # The bench tool removes its namespaces itself (also on failure); this covers a Ctrl-C that killed it first.
  [ -n "$BENCH_PID" ] && kill "$BENCH_PID" 2>/dev/null && wait "$BENCH_PID" 2>/dev/null
  for ns in $(ip netns list | awk -v p="ffp$(( $$ % 10000 ))-" 'index($1, p) == 1 { print $1 }'); do
    for pid in $(ip netns pids "$ns"); do kill "$pid" 2>/dev/null || true; done
    ip netns delete "$ns" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The agent as the image ships it (deploy/publish-flanneld.sh: NativeAOT), unless FLANNELD names
# another build; the framework-dependent `dotnet build` output measured ~10 MiB more RSS than the shipped file.
if [ -z "${FLANNELD:-}" ]; then
  deploy/publish-flanneld.sh "$WORK/flanneld"
  FLANNELD="$WORK/flanneld/flanneld"
fi
# The executable itself, for bench/throughput-ratios.sh: the per-host wrapper below picks a copy by the namespace it
# runs in, and that bench also runs flanneld in the root namespace (its certificates).
SHIPPED_FLANNELD="$FLANNELD"
if [ "${SHARED_BINARY:-0}" != 1 ]; then
  src_dir=$(dirname "$FLANNELD")
  for h in h1 h2 h3; do mkdir -p "$WORK/copies/$h" && cp -r "$src_dir"/. "$WORK/copies/$h/"; done
  # Written back before the agents start: clean pages, as an installed executable's are (the kernel keeps dirty ones).
  sync "$WORK"/copies/h*/"$(basename "$FLANNELD")"
  # The agents are started with `ip netns exec <prefix>-hN`: the wrapper picks that host's copy.
  mkdir -p "$WORK/wrapper" && cp -r "$src_dir/hocon" "$WORK/wrapper/" 2>/dev/null || true
  printf '#!/bin/sh\nns=$(ip netns identify $$)\nexec "%s/copies/${ns##*-}/%s" "$@"\n' "$WORK" "$(basename "$FLANNELD")" >"$WORK/wrapper/flanneld"
  chmod +x "$WORK/wrapper/flanneld"
  FLANNELD="$WORK/wrapper/flanneld"
fi
dotnet build bench/Flannel.Bench.Footprint -c Release -nologo -v q -clp:ErrorsOnly >&2
# The topology wires pods with the native `flannel` CNI plugin (the load phase's pods).
plugin="$(./scripts/cni-plugin.sh)"
export FLANNEL_CNI_PLUGIN="$plugin"
# The agents run with the runtime variables the image sets (deploy/Dockerfile), as a deployed agent does.
mapfile -t AGENT_ENV < <(sed -n 's/^ENV \(DOTNET_[A-Za-z_]*=[^ ]*\)$/\1/p' deploy/Dockerfile)
echo "footprint: agents' runtime variables: ${AGENT_ENV[*]}" >&2
echo "footprint: load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# exec in the background so the trap can end it by PID; the tool's namespaces carry this script's PID in their prefix.
env "${AGENT_ENV[@]}" FLANNELD="$FLANNELD" BENCH_PREFIX_PID=$$ \
  bench/Flannel.Bench.Footprint/bin/Release/net10.0/Flannel.Bench.Footprint "$@" >"$WORK/footprint.jsonl" &
BENCH_PID=$!
wait "$BENCH_PID"
BENCH_PID=

extra='{}'
if [ "${SKIP_CNI:-0}" != 1 ] && [ -x bench/cni.sh ]; then
  bench/cni.sh | tail -n 1 >"$WORK/cni.json"
  extra=$(jq -c . "$WORK/cni.json")
fi
: >"$WORK/throughput.jsonl"
if [ "${SKIP_THROUGHPUT:-0}" != 1 ] && [ -x bench/throughput-ratios.sh ]; then
  FLANNELD="$SHIPPED_FLANNELD" bench/throughput-ratios.sh >"$WORK/throughput.out"
  grep '^{' "$WORK/throughput.out" >"$WORK/throughput.jsonl" ||
    { echo "footprint.sh: bench/throughput-ratios.sh printed no JSON line" >&2; exit 1; }
fi
while read -r line; do
  b=$(jq -r .backend <<<"$line")
  tp=$(jq -sc --arg b "$b" '[.[] | select(.backend == $b) | del(.backend)] | add // {}' "$WORK/throughput.jsonl")
  # A field of theirs that this line already has (runs, load1) keeps its value under a prefix.
  jq -c --argjson cni "$extra" --argjson tp "$tp" '. as $own
    | def prefixed($p): with_entries(.key as $k | if ($own | has($k)) then .key = $p + $k else . end);
    . + ($cni | prefixed("cni_")) + ($tp | prefixed("throughput_"))' <<<"$line"
done <"$WORK/footprint.jsonl"
