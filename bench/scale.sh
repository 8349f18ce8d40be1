#!/usr/bin/env bash
# Lease-layer scale on paper: bench/scale.sh [N ...] (default 100 1000 5000). One JSON line per N with the real
# serialized lease table sizes and the message/byte counts of one claim and one gossip round, for the current design and
# the role-subset design (docs/scale.md explains both). SCALE_TRIALS (default 9): runs of the gossip model per N.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Flannel.Bench.Scale -c Release -nologo -v q "-clp:ErrorsOnly" >&2
exec dotnet bench/Flannel.Bench.Scale/bin/Release/net10.0/Flannel.Bench.Scale.dll "$@"
