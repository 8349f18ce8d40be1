#!/usr/bin/env bash
# Lease convergence benchmark: bench/leases.sh [N ...] (default 5 10 20).
# First line: the bare cost of one mutual-TLS handshake between two node credentials (median of 50, agent's validator):
#   {"tls_handshake_ms":..,"tls_handshake_cpu_ms":..,"samples":50,"min_ms":..} (CPU: both ends, one process)
# Then one JSON line per N, plain text and the agent's cluster TLS side by side (medians of LEASES_BENCH_RUNS runs each,
# default 3, interleaved):
#   {"nodes":N,"plain":{"converge_s":..,"duplicates":..,"leases":..,"start_s":..,"join_up_s":..,"runs":..,"converge_s_all":[..],
#    "min_table":..},"tls":{...},"tls_join_extra_s":..}
# converge_s: from starting N in-process nodes at once until every node holds a distinct lease and sees all N.
# join_up_s: median time from Cluster.Join to the node's own MemberUp; tls_join_extra_s = tls - plain.
# all_up_s: when the last node became Up; lease_after_up_s = converge_s - all_up_s (the lease layer's own share).
# converged_runs: runs where every node got a distinct lease and saw all N (a run that did not counts, never aborts).
# A run that did not converge within 90 s is a timeout, not a time: converge_s is null unless every run converged,
# timed_out_runs counts them, converge_s_all shows them as null; the script then exits 3 (after every line) naming them.
# rss_per_node_mib / heap_per_node_mib: process RSS growth and live managed heap (after a full GC) per node; idle_cores: CPU the converged idle cluster burns (3 s sample);
# gc_pause_s / gc_pause_share: time all nodes stood still in GC during the run, and its share of converge_s;
# harness: the N-dependent in-process settings (Harness.cs) and the machine's load average during the run.
# cpu_s: process CPU seconds from start to convergence (steadier than the wall clock on a shared machine);
# tls_handshakes: mutual-TLS handshakes completed in the run (validator calls / 2); connections_per_pair: TCP connections
# between the nodes at convergence / (N(N-1)/2) (Akka.Remote reuses inbound connections; 2 when both ends dialled).
# harness.trust_store_lock: "avoided" unless LEASES_BENCH_TRUST_STORE_LOCK=keep (TrustStoreLock.cs: a process-wide
# lock in .NET's system trust store cache that N in-process nodes contend for at every handshake; one agent does not).
# LEASES_BENCH_MODES=plain|tls|plain,tls (default both); BENCH_VERBOSE=1 prints membership/CPU progress per second.
# `dotnet bench/Flannel.Bench.Leases/bin/Release/net10.0/Flannel.Bench.Leases.dll --handshakes`: one JSON line per
# handshake variant (agent's ECDSA P-256 / RSA-2048, TLS 1.2 as Akka offers it / 1.3, with and without the agent's
# validator): wall and CPU ms per handshake; then the CPU of one validator check and of one system-trust chain build.
# The gen0 budget: N nodes in one process share one managed heap (~1 GB live at 100 nodes). With the default budget
# the process ran ~10 gen0 collections a second, each stopping all N nodes and scanning that shared heap: 25-48 % of
# the wall clock in GC pauses at 50-100 nodes (profile in bench/leases/RESULTS.md). A real agent has its own ~10 MB
# heap. A 256 MiB budget (fewer, not cheaper-per-byte, collections; every allocation still counted) removes that
# in-process multiplier; the JSON reports the pauses (gc_pause_s). Set DOTNET_GCgen0size= (empty) for the default.
set -euo pipefail
export DOTNET_GCgen0size="${DOTNET_GCgen0size-0x10000000}"
[ -n "$DOTNET_GCgen0size" ] || unset DOTNET_GCgen0size
cd "$(dirname "$0")/.."
dotnet build bench/Flannel.Bench.Leases -c Release -nologo -v q "-clp:ErrorsOnly" >&2
# A run that times out is a failure, never a converge_s: checked first (no cluster), then the runs.
dotnet bench/Flannel.Bench.Leases/bin/Release/net10.0/Flannel.Bench.Leases.dll --self-check
exec dotnet bench/Flannel.Bench.Leases/bin/Release/net10.0/Flannel.Bench.Leases.dll "$@"
