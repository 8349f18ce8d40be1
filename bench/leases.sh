#!/usr/bin/env bash
# Lease convergence benchmark: bench/leases.sh [N ...] (default 5 10 20).
# Prints one JSON line per N (median of LEASES_BENCH_RUNS runs, default 3):
#   {"nodes":N,"converge_s":..,"duplicates":..,"leases":..,"start_s":..,"runs":..,"converge_s_all":[..],"min_table":..}
# converge_s: from starting N in-process nodes at once until every node holds a distinct lease and sees all N.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Flannel.Bench.Leases -c Release -nologo -v q "-clp:ErrorsOnly" >&2
exec dotnet bench/Flannel.Bench.Leases/bin/Release/net10.0/Flannel.Bench.Leases.dll "$@"
