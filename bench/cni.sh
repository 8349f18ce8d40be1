#!/usr/bin/env bash
# CNI plugin benchmark (root): bench/cni.sh. Prints ONE JSON line:
#   {"runs":N,"cni_add_ms":..,"cni_del_ms":..,"cni_version_ms":..,"cni_rss_kib":..,"cni_add_rss_kib":..,
#    "cni_add_total_ms":..,"cni_del_total_ms":..,"delegate_add_ms":..,"delegate_del_ms":..,
#    "baseline_bridge_version_ms":..,"baseline_bridge_rss_kib":..,
#    "old_flanneld_add_ms":..,"old_flanneld_del_ms":..,"old_flanneld_version_ms":..,"old_flanneld_rss_kib":..,
#    "plugin_bytes":..,"load1":..}
# All times are medians over RUNS (env, default 20) pods / execs, in milliseconds.
#
# What is measured: the native `flannel` plugin (scripts/cni-plugin.sh publishes it) exec'd as a runtime does, from a
# "host" network namespace, with the real delegates from Debian's containernetworking-plugins (bridge + host-local).
# - cni_add_ms / cni_del_ms: our plugin's own part of ADD / DEL, i.e. the delegate's run time excluded. Per pod i:
#     1. ADD through `flannel` (wall clock from exec to exit, timed by the loop's shell with $EPOCHREALTIME, no fork
#        of its own), then DEL through `flannel`;
#     2. ADD of another pod by exec'ing `bridge` directly with the very config `flannel` rendered for pod i (read
#        from its dataDir), then DEL the same way.
#   Both pods see the same bridge state (no other pod attached) and the order of 1 and 2 alternates per pod. Our part
#   for pod i = (1) - (2): process start, config parsing and rendering, subnet.env, the stored config and the spawn
#   of the delegate; the shell's own fork/exec cost is in both and cancels. The figure is the median of the per-pod
#   differences; cni_add_total_ms / delegate_add_ms are the medians of (1) and (2) themselves.
# - cni_version_ms: CNI_COMMAND=VERSION exec to exit. cni_rss_kib: max RSS of one VERSION exec (GNU time %M, median
#   of 5); cni_add_rss_kib: the same for one ADD (the delegates run as children and are not counted).
# - baseline_bridge_*: Debian's Go `bridge` plugin, VERSION, the same way, in the same run.
# - old_flanneld_*: optional, the previous path (flanneld, JIT, CNI role by CNI_COMMAND) when OLD_FLANNELD names its
#   binary, e.g. main's build from before the split; measured the same way in the same run; null otherwise.
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

# Pod namespaces, made before any timing: per pod one for the plugin under test and one for the direct delegate call,
# plus one warm-up pod (its ADD creates cni0 and host-local's state).
variants="new"
[ -n "$old" ] && variants="new old"
for i in $(seq 0 "$RUNS"); do
  for v in $variants direct; do ip netns add "$prefix-$v$i"; done
done

# The timing loop runs inside the host namespace (one `ip netns exec`), so every exec it times is a plain fork/exec.
ip netns exec "$host" env WORK="$work" PREFIX="$prefix" RUNS="$RUNS" OLD="$old" BRIDGE="$bridge" VARIANTS="$variants" \
  bash -s >"$work/samples" <<'LOOP'
set -euo pipefail
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) * 1000 }'; }
# cni <variant> <command> <container> <netns> <config file>: exec, time, check; prints the elapsed ms.
cni() {
  local bin
  case "$1" in new) bin="$WORK/bin/flannel" ;; old) bin="$OLD" ;; direct) bin="$BRIDGE" ;; esac
  local path="$WORK/bin:/usr/lib/cni"
  [ "$1" = old ] && path="$(dirname "$OLD"):/usr/lib/cni"
  local s e rc=0
  s=$EPOCHREALTIME
  CNI_COMMAND="$2" CNI_CONTAINERID="$3" CNI_NETNS="/var/run/netns/$4" CNI_IFNAME=eth0 CNI_PATH="$path" \
    "$bin" <"$5" >"$WORK/out" 2>"$WORK/err" || rc=$?
  e=$EPOCHREALTIME
  if [ "$rc" != 0 ]; then echo "cni bench: $1 $2 $3 exited $rc: $(cat "$WORK/out" "$WORK/err")" >&2; exit 1; fi
  if [ "$2" = ADD ] && ! grep -q '"10.244.77.' "$WORK/out"; then echo "cni bench: $1 ADD $3 gave no address: $(cat "$WORK/out")" >&2; exit 1; fi
  ms "$s" "$e"
}
for i in $(seq 0 "$RUNS"); do
  # `flannel` first renders the config the direct call replays; the direct call keeps a copy because DEL removes it.
  # So per pod: new ADD, then (alternating) new DEL before or after the direct pair and the old pair.
  if [ $((i % 2)) = 0 ]; then
    a="$(cni new ADD "$PREFIX-new$i" "$PREFIX-new$i" "$WORK/conf-new.json")"
    cp "$WORK/data-new/$PREFIX-new$i" "$WORK/direct.json"
    d="$(cni new DEL "$PREFIX-new$i" "$PREFIX-new$i" "$WORK/conf-new.json")"
    da="$(cni direct ADD "$PREFIX-direct$i" "$PREFIX-direct$i" "$WORK/direct.json")"
    dd="$(cni direct DEL "$PREFIX-direct$i" "$PREFIX-direct$i" "$WORK/direct.json")"
  else
    # The direct pair first: it needs the rendered config, which does not depend on the pod (only on subnet.env and
    # the network config), so the previous pod's copy is the same bytes.
    da="$(cni direct ADD "$PREFIX-direct$i" "$PREFIX-direct$i" "$WORK/direct.json")"
    dd="$(cni direct DEL "$PREFIX-direct$i" "$PREFIX-direct$i" "$WORK/direct.json")"
    a="$(cni new ADD "$PREFIX-new$i" "$PREFIX-new$i" "$WORK/conf-new.json")"
    cmp -s "$WORK/data-new/$PREFIX-new$i" "$WORK/direct.json" || { echo "cni bench: the rendered delegate config changed between pods" >&2; exit 1; }
    d="$(cni new DEL "$PREFIX-new$i" "$PREFIX-new$i" "$WORK/conf-new.json")"
  fi
  if [ -n "$OLD" ]; then
    oa="$(cni old ADD "$PREFIX-old$i" "$PREFIX-old$i" "$WORK/conf-old.json")"
    od="$(cni old DEL "$PREFIX-old$i" "$PREFIX-old$i" "$WORK/conf-old.json")"
  fi
  # Pod 0 is the warm-up (it creates cni0 and host-local's state): not a sample.
  [ "$i" = 0 ] && continue
  echo "new_add $a"; echo "new_del $d"; echo "direct_add $da"; echo "direct_del $dd"
  echo "own_add $(awk -v a="$a" -v b="$da" 'BEGIN { printf "%.3f", a - b }')"
  echo "own_del $(awk -v a="$d" -v b="$dd" 'BEGIN { printf "%.3f", a - b }')"
  if [ -n "$OLD" ]; then
    echo "old_add $oa"; echo "old_del $od"
    echo "oldown_add $(awk -v a="$oa" -v b="$da" 'BEGIN { printf "%.3f", a - b }')"
    echo "oldown_del $(awk -v a="$od" -v b="$dd" 'BEGIN { printf "%.3f", a - b }')"
  fi
done
echo '{}' >"$WORK/empty.json"
version() { # <label> <binary>
  local s e
  CNI_COMMAND=VERSION "$2" <"$WORK/empty.json" >/dev/null # warm-up: page cache
  for _ in $(seq 1 "$RUNS"); do
    s=$EPOCHREALTIME
    CNI_COMMAND=VERSION "$2" <"$WORK/empty.json" >"$WORK/out"
    e=$EPOCHREALTIME
    grep -q supportedVersions "$WORK/out" || { echo "cni bench: $1 VERSION: $(cat "$WORK/out")" >&2; exit 1; }
    echo "$1_version $(ms "$s" "$e")"
  done
  for _ in 1 2 3 4 5; do
    echo "$1_rss $(CNI_COMMAND=VERSION /usr/bin/time -f %M "$2" <"$WORK/empty.json" 2>&1 >/dev/null | tail -1)"
  done
}
version new "$WORK/bin/flannel"
version bridge "$BRIDGE"
[ -n "$OLD" ] && version old "$OLD"
# Max RSS of one ADD of ours (the delegates are children: GNU time's %M is the plugin's own peak).
CNI_COMMAND=ADD CNI_CONTAINERID="$PREFIX-rss" CNI_NETNS="/var/run/netns/$PREFIX-new0" CNI_IFNAME=eth0 CNI_PATH="$WORK/bin:/usr/lib/cni" \
  /usr/bin/time -f "new_addrss %M" -o "$WORK/addrss" "$WORK/bin/flannel" <"$WORK/conf-new.json" >/dev/null
cat "$WORK/addrss"
CNI_COMMAND=DEL CNI_CONTAINERID="$PREFIX-rss" CNI_NETNS="/var/run/netns/$PREFIX-new0" CNI_IFNAME=eth0 CNI_PATH="$WORK/bin:/usr/lib/cni" \
  "$WORK/bin/flannel" <"$WORK/conf-new.json" >/dev/null
LOOP

median() { # <key>: median of that key's samples, or null
  awk -v k="$1" '$1 == k { print $2 }' "$work/samples" | sort -g | awk '
    { v[NR] = $1 } END { if (NR == 0) { print "null"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m }'
}
rss() { local m; m="$(median "$1")"; [ "$m" = null ] && echo null || printf '%.0f' "$m"; }
load1="$(awk '{print $1}' /proc/loadavg)"
printf '{"runs":%s,"cni_add_ms":%s,"cni_del_ms":%s,"cni_version_ms":%s,"cni_rss_kib":%s,"cni_add_rss_kib":%s,' \
  "$RUNS" "$(median own_add)" "$(median own_del)" "$(median new_version)" "$(rss new_rss)" "$(rss new_addrss)"
printf '"cni_add_total_ms":%s,"cni_del_total_ms":%s,"delegate_add_ms":%s,"delegate_del_ms":%s,' \
  "$(median new_add)" "$(median new_del)" "$(median direct_add)" "$(median direct_del)"
printf '"baseline_bridge_version_ms":%s,"baseline_bridge_rss_kib":%s,' "$(median bridge_version)" "$(rss bridge_rss)"
printf '"old_flanneld_add_ms":%s,"old_flanneld_del_ms":%s,"old_flanneld_version_ms":%s,"old_flanneld_rss_kib":%s,' \
  "$(median oldown_add)" "$(median oldown_del)" "$(median old_version)" "$(rss old_rss)"
printf '"plugin_bytes":%s,"load1":%s}\n' "$(stat -c %s "$plugin")" "$load1"
