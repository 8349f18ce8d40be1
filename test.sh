#!/usr/bin/env bash
# Installs what the tests need, builds, and runs every test (unit, actor, end-to-end in network namespaces).
# Usage: ./test.sh [extra dotnet test args, e.g. --filter FullyQualifiedName~NetConf]
set -euo pipefail
cd "$(dirname "$0")"
./scripts/prereqs.sh
# Quiet, but warnings and errors show (the build is meant to print none).
dotnet build Flannel.sln -c Release -nologo -v q
# The end-to-end tests exec the native `flannel` CNI plugin (NativeAOT), which `dotnet build` does not make.
plugin="$(./scripts/cni-plugin.sh)"
export FLANNEL_CNI_PLUGIN="$plugin"
# The image tests (tests/Flannel.E2E/Image) run what deploy/build-image.sh builds from this tree (cached base layer).
deploy/build-image.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test Flannel.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$rc" != 0 ] || [ "$failed" != 0 ] || [ "$passed" = 0 ]; then exit 1; fi
# A skip proves nothing. The only allowed one is the image tests on a machine that cannot run containers; under CI,
# where they must run, any skip fails the run.
if [ "$skipped" != 0 ]; then
  grep -E '^\s+Skipped ' "$log" || true
  if [ -n "${CI:-}" ]; then echo "tests: $skipped skipped under CI" >&2; exit 1; fi
fi
