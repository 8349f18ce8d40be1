#!/usr/bin/env bash
# Publishes the native `flannel` CNI plugin (src/Flannel.Cni, NativeAOT, linux-x64) and prints its absolute path on
# stdout, for: export FLANNEL_CNI_PLUGIN="$(scripts/cni-plugin.sh)". test.sh, demo.sh and bench/cni.sh call it; the C#
# side reads only FLANNEL_CNI_PLUGIN (src/Flannel.Demo/CniPluginBinary.cs). `dotnet build` does not AOT-compile.
# A failed publish exits non-zero with the compiler's errors on stderr: there is no fallback to a JIT build.
# Env: FLANNEL_CNI_OUT (default artifacts/cni under the repository) is where the binary goes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${FLANNEL_CNI_OUT:-$root/artifacts/cni}"
command -v clang >/dev/null || { echo "cni-plugin: NativeAOT needs clang (scripts/prereqs.sh installs it)" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! dotnet publish "$root/src/Flannel.Cni" -c Release -r linux-x64 -o "$out" -nologo -v q -clp:ErrorsOnly >"$log" 2>&1; then
  echo "cni-plugin: publishing the native flannel CNI plugin failed:" >&2
  cat "$log" >&2
  exit 1
fi
plugin="$out/flannel"
# A JIT apphost next to flannel.dll would also be called `flannel`: the native binary has no managed entry assembly.
if [ ! -x "$plugin" ] || [ -e "$out/flannel.dll" ]; then
  echo "cni-plugin: $plugin is not a native (AOT) executable" >&2
  exit 1
fi
echo "$plugin"
