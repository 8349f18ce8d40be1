#!/usr/bin/env bash
# Lease convergence benchmark: bench/leases.sh [N ...] (default 5 10 20).
# First line: the bare cost of one mutual-TLS handshake between two node credentials (median of 50, agent's validator):
#   {"tls_handshake_ms":..,"samples":50,"min_ms":..}
# Then one JSON line per N, plain text and the agent's cluster TLS side by side (medians of LEASES_BENCH_RUNS runs each,
# default 3, interleaved):
#   {"nodes":N,"plain":{"converge_s":..,"duplicates":..,"leases":..,"start_s":..,"join_up_s":..,"runs":..,"converge_s_all":[..],
#    "min_table":..},"tls":{...},"tls_join_extra_s":..}
# converge_s: from starting N in-process nodes at once until every node holds a distinct lease and sees all N.
# join_up_s: median time from Cluster.Join to the node's own MemberUp; tls_join_extra_s = tls - plain.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Flannel.Bench.Leases -c Release -nologo -v q "-clp:ErrorsOnly" >&2
exec dotnet bench/Flannel.Bench.Leases/bin/Release/net10.0/Flannel.Bench.Leases.dll "$@"
