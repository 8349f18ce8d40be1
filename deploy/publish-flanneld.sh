#!/usr/bin/env bash
# Publishes flanneld as the image ships it: self-contained, single file, IL + JIT (no ReadyToRun, no trimming).
# Usage: deploy/publish-flanneld.sh OUTDIR [RID]  (RID default linux-x64). Used by deploy/build-image.sh and
# bench/footprint.sh (so the bench measures the shipped form); deploy/Dockerfile runs the same command.
# Why this form (bench/footprint.sh, vxlan, bench/footprint/RESULTS.md 2026-12-01): the single file is ~10 MiB less RSS
# than the framework-dependent build output (127 -> 117-123 MiB: the framework's touched pages come from one mapping,
# no host/deps.json resolution); ReadyToRun of our + Akka's assemblies cost +25 MiB (148 MiB: touched R2R pages
# outweigh the JIT code saved), composite R2R with the framework +29 MiB (152 MiB); TrimMode=partial made the agent
# exit at start (System.Text.Json's reflection serializer is off in trimmed apps).
# FLANNELD_FORM=aot publishes the NativeAOT form instead (one native executable plus hocon/; needs clang, as the CNI
# plugin does): the properties are in src/Flannel.Host/Flannel.Host.csproj (FlanneldForm=aot), the figures in
# bench/footprint/RESULTS.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out=${1:?usage: publish-flanneld.sh OUTDIR [RID]}
rid=${2:-linux-x64}
case "${FLANNELD_FORM:-single-file}" in
  single-file) form=(-p:PublishSingleFile=true) ;;
  aot) form=(-p:FlanneldForm=aot) ;;
  *) echo "publish-flanneld: FLANNELD_FORM must be single-file or aot, not '$FLANNELD_FORM'" >&2; exit 2 ;;
esac
dotnet publish "$root/src/Flannel.Host/Flannel.Host.csproj" -c Release -r "$rid" --self-contained true \
  "${form[@]}" -p:DebugType=none -o "$out" -nologo -v q -clp:ErrorsOnly >&2
