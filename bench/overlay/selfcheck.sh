#!/usr/bin/env bash
# Self-check of bench/overlay.sh's measuring functions and addresses; no root, no namespaces (`ip` is stubbed), about a
# second. overlay.sh runs it first; run it alone as `bench/overlay/selfcheck.sh`. It fails when
# - a failed iperf3 (non-zero exit, or exit 0 with only an "error" member) or a ping without replies yields a number
#   (which overlay.sh used to record as 0 Gbit/s, "0 100" = 100 % loss, or 0 ms into the medians) instead of failing
#   with a message naming the path and run (MEASURING) and the step;
# - the underlay is not on the benchmarking range 198.18.0.0/15.
set -uo pipefail
cd "$(dirname "$0")/../.."
command -v jq >/dev/null || { echo "selfcheck: jq missing (scripts/prereqs.sh)" >&2; exit 1; }
source bench/overlay/measure.sh
TAG=sc source bench/overlay/topology.sh

failures=0
bad() { echo "selfcheck: $1" >&2; failures=$((failures + 1)); }
err=$(mktemp)
trap 'rm -f "$err"' EXIT

# expect_failure NAME STEP_WORD CMD...: CMD must fail, print nothing, and name MEASURING and the step on stderr.
expect_failure() {
  local name=$1 word=$2 out
  shift 2
  if out=$("$@" 2>"$err"); then bad "$name: succeeded and printed \"$out\" instead of failing"; return; fi
  [ -z "$out" ] || bad "$name: printed \"$out\" on stdout (it would be recorded)"
  grep -q "vxlan, run 2" "$err" || bad "$name: the error does not name the path and run: $(cat "$err")"
  grep -q -- "$word" "$err" || bad "$name: the error does not name the step ($word): $(cat "$err")"
}

MEASURING="vxlan, run 2"
ip() { echo '{"start":{},"intervals":[],"end":{},"error":"unable to connect to server: Connection refused"}'; return 1; }
expect_failure "tcp_gbps, iperf3 exits 1" "iperf3 TCP" tcp_gbps p1 10.77.2.2 1 5
expect_failure "udp64, iperf3 exits 1" "iperf3 UDP" udp64 p1 10.77.2.2 5 0
grep -q "Connection refused" "$err" || bad "udp64: the error does not carry iperf3's reason: $(cat "$err")"
ip() { echo '{"start":{},"intervals":[],"end":{},"error":"the server is busy running a test"}'; }
expect_failure "tcp_gbps, iperf3 exits 0 with an error" "iperf3 TCP" tcp_gbps p1 10.77.2.2 1 5
expect_failure "udp64, iperf3 exits 0 with an error" "iperf3 UDP" udp64 p1 10.77.2.2 5 0
ip() { echo "PING 10.77.2.2 (10.77.2.2) 56(84) bytes of data."; return 1; }
expect_failure "ping_ms, no reply" "ping" ping_ms p1 10.77.2.2 10

# What a good run prints still comes through.
ip() { echo '{"end":{"sum_received":{"bits_per_second":2.5e9}}}'; }
[ "$(tcp_gbps p1 10.77.2.2 1 5 2>/dev/null)" = 2.5 ] || bad "tcp_gbps: a good run does not give 2.5"
ip() { echo '{"end":{"sum":{"packets":1000,"lost_packets":100,"seconds":2,"lost_percent":10}}}'; }
[ "$(udp64 p1 10.77.2.2 5 0 2>/dev/null)" = "450 10" ] || bad "udp64: a good run does not give \"450 10\""
ip() { printf '64 bytes from 10.77.2.2: icmp_seq=1 ttl=63 time=0.100 ms\n64 bytes from 10.77.2.2: icmp_seq=2 ttl=63 time=0.300 ms\n'; }
[ "$(ping_ms p1 10.77.2.2 2 2>/dev/null)" = "0.2000 0.3000" ] || bad "ping_ms: a good run does not give \"0.2000 0.3000\""

for a in $U1 $U2; do
  case $a in 198.18.*|198.19.*) ;; *) bad "underlay address $a is not in 198.18.0.0/15" ;; esac
done

if [ $failures != 0 ]; then echo "selfcheck: $failures failure(s)" >&2; exit 1; fi
echo "selfcheck: ok" >&2
