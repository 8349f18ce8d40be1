#!/usr/bin/env bash
# Publishes flanneld as the image ships it: NativeAOT, one native executable (plus hocon/ beside it), no .NET runtime,
# no JIT. Needs clang, as the CNI plugin does (scripts/prereqs.sh). Takes ~3 min here (the single file: ~15 s).
# Usage: deploy/publish-flanneld.sh OUTDIR [RID]  (RID default linux-x64). Used by deploy/build-image.sh and
# bench/footprint.sh (so the bench measures the shipped form); deploy/Dockerfile runs the same command.
# The form's properties (assemblies rooted for Akka's reflection, no dehydration, non-PIE) and why are in
# src/Flannel.Host/Flannel.Host.csproj (FlanneldForm=aot).
# Why this form (bench/footprint.sh, bench/footprint/RESULTS.md, 2026-12-01, A/B in one run): RSS 121-128 -> 77-80 MiB,
# anonymous memory 59-66 -> 24-27 MiB, 2 threads fewer, a joiner ready in ~0.5 s instead of ~1.5 s.
# FLANNELD_FORM=single-file publishes the earlier form (self-contained single file, IL + JIT) for comparison. Measured
# and not used: ReadyToRun (+25 MiB: touched R2R pages outweigh the JIT code saved), composite R2R (+29 MiB); the JIT form
# trimmed (TrimMode=partial) exited at start.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out=${1:?usage: publish-flanneld.sh OUTDIR [RID]}
rid=${2:-linux-x64}
case "${FLANNELD_FORM:-aot}" in
  single-file) form=(-p:PublishSingleFile=true) ;;
  aot) form=(-p:FlanneldForm=aot) ;;
  *) echo "publish-flanneld: FLANNELD_FORM must be aot or single-file, not '$FLANNELD_FORM'" >&2; exit 2 ;;
esac
dotnet publish "$root/src/Flannel.Host/Flannel.Host.csproj" -c Release -r "$rid" --self-contained true \
  "${form[@]}" -p:DebugType=none -o "$out" -nologo -v q -clp:ErrorsOnly >&2
