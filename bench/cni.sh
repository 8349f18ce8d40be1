#!/usr/bin/env bash
# CNI plugin benchmark (root): bench/cni.sh. Prints ONE JSON line:
#   {"runs":N,"cni_add_ms":..,"cni_del_ms":..,"cni_version_ms":..,"cni_rss_kib":..,"cni_add_rss_kib":..,
#    "cni_add_total_ms":..,"cni_del_total_ms":..,"delegate_add_ms":..,"delegate_del_ms":..,
#    "baseline_bridge_version_ms":..,"baseline_bridge_rss_kib":..,
#    "old_flanneld_add_ms":..,"old_flanneld_del_ms":..,"old_flanneld_version_ms":..,"old_flanneld_rss_kib":..,
#    "plugin_bytes":..,"load1":..}
# Times are medians over RUNS (env, default 20) pods / execs, in milliseconds; load1 is /proc/loadavg at the end.
#
# What is measured: the native `flannel` plugin (scripts/cni-plugin.sh publishes it) exec'd as a runtime does, from a
# "host" network namespace, with the real delegates from Debian's containernetworking-plugins (bridge, which runs
# host-local). One pod per run: a fresh pod namespace, ADD, then DEL.
# - cni_add_total_ms: ADD from exec to exit, timed by the loop's shell with $EPOCHREALTIME (no fork of its own).
# - cni_add_ms: our own part of it = total minus the delegate's run time. The delegate's run time is timed from the
#   inside: CNI_PATH finds `bridge` first in a tiny C shim (compiled here with clang) that takes a CLOCK_REALTIME stamp
#   on entry, forks and execs the real /usr/lib/cni/bridge with the same argv, stdin, stdout and environment, waits,
#   takes a second stamp and logs the difference (delegate_add_ms). The real delegate's exec, its run and host-local's
#   are excluded; the shim's own exec (a 16 KB C program, ~0.3 ms) stays in our part, so the figure
#   errs against us. Our part holds our process start, parsing and rendering, subnet.env, the stored delegate config
#   and spawning / reaping the delegate. The median is taken over the per-pod differences. Subtracting a separate
#   direct run of bridge instead does not work on this shared machine: bridge's own 20-50 ms vary more than our part.
# - cni_del_ms, cni_del_total_ms, delegate_del_ms: the same for DEL (which replays the stored config).
# - cni_version_ms: CNI_COMMAND=VERSION exec to exit. cni_rss_kib: max RSS of one VERSION exec (GNU time %M, median
#   of 5); cni_add_rss_kib: the same for one ADD (GNU time reports the plugin's own peak, not its children's).
# - baseline_bridge_*: Debian's Go `bridge` plugin, VERSION, interleaved with ours in the same rounds.
# - old_flanneld_*: optional, the previous path (flanneld, JIT, CNI role by CNI_COMMAND) when OLD_FLANNELD names its
#   binary, e.g. a build of main from before the split; interleaved per pod / round in the same run; null otherwise.
# Pods get their addresses from 10.244.77.0/24 (the test subnet.env) inside the host namespace, never in the root
# namespace; host-local keeps its state in the run's temp dir. Namespaces are named fcnib<PID>-*; everything is
# removed on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "cni bench: run as root (network namespaces)" >&2; exit 1; fi
./scripts/prereqs.sh >&2
RUNS="${RUNS:-20}"
case "$RUNS" in ''|*[!0-9]*|0) echo "cni bench: RUNS must be a positive integer, got \"$RUNS\"" >&2; exit 2 ;; esac
plugin="$(./scripts/cni-plugin.sh)"
old="${OLD_FLANNELD:-}"
if [ -n "$old" ] && [ ! -x "$old" ]; then echo "cni bench: OLD_FLANNELD=$old is not an executable" >&2; exit 2; fi
bridge=/usr/lib/cni/bridge
[ -x "$bridge" ] && [ -x /usr/lib/cni/host-local ] || { echo "cni bench: $bridge and host-local are missing (containernetworking-plugins)" >&2; exit 1; }

prefix="fcnib$$"
work="$(mktemp -d /tmp/flannel-cni-bench.XXXXXX)"
cleanup() {
  for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix-" || true); do ip netns delete "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

host="$prefix-host"
ip netns add "$host"
ip -n "$host" link set lo up
mkdir -p "$work/bin"
ln -s "$plugin" "$work/bin/flannel"
printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.77.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n' >"$work/subnet.env"
conf() { # $1 = dataDir of the plugin under test
  printf '{"cniVersion":"1.0.0","name":"%s","type":"flannel","subnetFile":"%s","dataDir":"%s","delegate":{"isDefaultGateway":true,"hairpinMode":true},"ipam":{"dataDir":"%s"}}' \
    "$prefix" "$work/subnet.env" "$1" "$work/ipam"
}
conf "$work/data-new" >"$work/conf-new.json"
conf "$work/data-old" >"$work/conf-old.json"
mkdir -p "$work/shim"
cat >"$work/shim.c" <<'C'
/* Times the real delegate from inside the plugin's call: see the header of bench/cni.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double now_ms(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
int main(int argc, char **argv) {
  (void)argc;
  double start = now_ms();
  const char *real = getenv("SHIM_REAL"), *log = getenv("SHIM_LOG");
  if (!real || !log) { fputs("shim: SHIM_REAL and SHIM_LOG must be set\n", stderr); return 99; }
  pid_t pid = fork();
  if (pid < 0) { perror("shim: fork"); return 99; }
  if (pid == 0) { execv(real, argv); perror("shim: exec"); _exit(127); }
  int status;
  if (waitpid(pid, &status, 0) < 0) { perror("shim: waitpid"); return 99; }
  double end = now_ms();
  FILE *f = fopen(log, "a");
  if (!f) { perror("shim: log"); return 99; }
  fprintf(f, "%.3f\n", end - start);
  fclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
C
clang -O2 -o "$work/shim/bridge" "$work/shim.c"

# Pod namespaces, made before any timing; pod 0 of each variant is the warm-up (its ADD creates cni0 and host-local's
# state) and not a sample.
variants="new"
[ -n "$old" ] && variants="new old"
for i in $(seq 0 "$RUNS"); do
  for v in $variants; do ip netns add "$prefix-$v$i"; done
done

# The timing loop runs inside the host namespace (one `ip netns exec`), so every exec it times is a plain fork/exec.
ip netns exec "$host" env WORK="$work" PREFIX="$prefix" RUNS="$RUNS" OLD="$old" BRIDGE="$bridge" VARIANTS="$variants" \
  bash -s >"$work/samples" <<'LOOP'
set -euo pipefail
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) * 1000 }'; }
# cni <variant> <command> <pod>: exec the plugin under test as a runtime does; prints "<total ms> <delegate ms>".
cni() {
  local bin="$WORK/bin/flannel" s e rc=0
  [ "$1" = old ] && bin="$OLD"
  : >"$WORK/delegate.log"
  s=$EPOCHREALTIME
  CNI_COMMAND="$2" CNI_CONTAINERID="$3" CNI_NETNS="/var/run/netns/$3" CNI_IFNAME=eth0 \
    CNI_PATH="$WORK/shim:/usr/lib/cni" SHIM_REAL="$BRIDGE" SHIM_LOG="$WORK/delegate.log" \
    "$bin" <"$WORK/conf-$1.json" >"$WORK/out" 2>"$WORK/err" || rc=$?
  e=$EPOCHREALTIME
  if [ "$rc" != 0 ]; then echo "cni bench: $1 $2 $3 exited $rc: $(cat "$WORK/out" "$WORK/err")" >&2; exit 1; fi
  if [ "$2" = ADD ] && ! grep -q '"10.244.77.' "$WORK/out"; then echo "cni bench: $1 ADD $3 gave no address: $(cat "$WORK/out")" >&2; exit 1; fi
  [ "$(wc -l <"$WORK/delegate.log")" = 1 ] || { echo "cni bench: $1 $2 $3 did not run the delegate once" >&2; exit 1; }
  echo "$(ms "$s" "$e") $(cat "$WORK/delegate.log")"
}
for i in $(seq 0 "$RUNS"); do
  for v in $VARIANTS; do
    # Assigned first: a failing call then stops the loop (set -e), which a here-string would hide.
    add="$(cni "$v" ADD "$PREFIX-$v$i")"
    del="$(cni "$v" DEL "$PREFIX-$v$i")"
    read -r at ad <<<"$add"
    read -r dt dd <<<"$del"
    [ "$i" = 0 ] && continue
    echo "${v}_add_total $at"; echo "${v}_add_delegate $ad"; echo "${v}_add_own $(awk -v a="$at" -v b="$ad" 'BEGIN { printf "%.3f", a - b }')"
    echo "${v}_del_total $dt"; echo "${v}_del_delegate $dd"; echo "${v}_del_own $(awk -v a="$dt" -v b="$dd" 'BEGIN { printf "%.3f", a - b }')"
  done
done
echo '{}' >"$WORK/empty.json"
# VERSION: the binaries interleaved per round, so a burst of load on this shared machine hits them alike.
versions="new:$WORK/bin/flannel bridge:$BRIDGE"
[ -n "$OLD" ] && versions="$versions old:$OLD"
for lb in $versions; do CNI_COMMAND=VERSION "${lb#*:}" <"$WORK/empty.json" >/dev/null; done # warm-up: page cache
for _ in $(seq 1 "$RUNS"); do
  for lb in $versions; do
    s=$EPOCHREALTIME
    CNI_COMMAND=VERSION "${lb#*:}" <"$WORK/empty.json" >"$WORK/out"
    e=$EPOCHREALTIME
    grep -q supportedVersions "$WORK/out" || { echo "cni bench: ${lb%%:*} VERSION: $(cat "$WORK/out")" >&2; exit 1; }
    echo "${lb%%:*}_version $(ms "$s" "$e")"
  done
done
for _ in 1 2 3 4 5; do
  for lb in $versions; do
    echo "${lb%%:*}_rss $(CNI_COMMAND=VERSION /usr/bin/time -f %M "${lb#*:}" <"$WORK/empty.json" 2>&1 >/dev/null | tail -1)"
  done
done
# Max RSS of one ADD of ours (the delegates are children: GNU time's %M is the plugin's own peak).
CNI_COMMAND=ADD CNI_CONTAINERID="$PREFIX-rss" CNI_NETNS="/var/run/netns/$PREFIX-new0" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
  /usr/bin/time -f "new_addrss %M" -o "$WORK/addrss" "$WORK/bin/flannel" <"$WORK/conf-new.json" >/dev/null
cat "$WORK/addrss"
CNI_COMMAND=DEL CNI_CONTAINERID="$PREFIX-rss" CNI_NETNS="/var/run/netns/$PREFIX-new0" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
  "$WORK/bin/flannel" <"$WORK/conf-new.json" >/dev/null
LOOP

median() { # <key>: median of that key's samples, or null
  awk -v k="$1" '$1 == k { print $2 }' "$work/samples" | sort -g | awk '
    { v[NR] = $1 } END { if (NR == 0) { print "null"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m }'
}
rss() { local m; m="$(median "$1")"; [ "$m" = null ] && echo null || printf '%.0f' "$m"; }
load1="$(awk '{print $1}' /proc/loadavg)"
printf '{"runs":%s,"cni_add_ms":%s,"cni_del_ms":%s,"cni_version_ms":%s,"cni_rss_kib":%s,"cni_add_rss_kib":%s,' \
  "$RUNS" "$(median new_add_own)" "$(median new_del_own)" "$(median new_version)" "$(rss new_rss)" "$(rss new_addrss)"
printf '"cni_add_total_ms":%s,"cni_del_total_ms":%s,"delegate_add_ms":%s,"delegate_del_ms":%s,' \
  "$(median new_add_total)" "$(median new_del_total)" "$(median new_add_delegate)" "$(median new_del_delegate)"
printf '"baseline_bridge_version_ms":%s,"baseline_bridge_rss_kib":%s,' "$(median bridge_version)" "$(rss bridge_rss)"
printf '"old_flanneld_add_ms":%s,"old_flanneld_del_ms":%s,"old_flanneld_version_ms":%s,"old_flanneld_rss_kib":%s,' \
  "$(median old_add_own)" "$(median old_del_own)" "$(median old_version)" "$(rss old_rss)"
printf '"plugin_bytes":%s,"load1":%s}\n' "$(stat -c %s "$plugin")" "$load1"
