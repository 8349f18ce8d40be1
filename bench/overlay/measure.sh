# Sourced by bench/overlay.sh: one measurement of each kind, printing a bare number. Needs jq.
# A measurement that fails (iperf3 or ping exits non-zero, reports an error, or has no result) prints nothing, says on
# stderr what failed where (MEASURING names the path and run, set by the caller) and returns 1: the caller takes it as
# `v=$(tcp_gbps ...)` so `set -e` ends the run; a failure must never enter the medians as 0 Gbit/s or 100 % loss.

# measure_failed WHAT DETAIL: the error line (and status 1) of a failed measurement.
measure_failed() { echo "overlay.sh: ${MEASURING:-?}: $1 failed: $2" >&2; return 1; }

# tcp_gbps NS_FROM DST STREAMS SECONDS -> received Gbit/s
tcp_gbps() {
  local out what="iperf3 TCP -P $3 $1 -> $2"
  out=$(ip netns exec "$1" iperf3 -c "$2" -P "$3" -t "$4" -J -p 5201) || { measure_failed "$what" "$(iperf3_error "$out")"; return 1; }
  # iperf3 -J may exit 0 with only an "error" member.
  jq -er '.end.sum_received.bits_per_second | numbers / 1e9' <<<"$out" 2>/dev/null || { measure_failed "$what" "$(iperf3_error "$out")"; return 1; }
}

# udp64 NS_FROM DST SECONDS BITRATE -> "received_pps loss_pct" (64-byte payloads; BITRATE 0 = unlimited)
udp64() {
  local out what="iperf3 UDP 64-byte at ${4} bit/s $1 -> $2"
  out=$(ip netns exec "$1" iperf3 -c "$2" -u -l 64 -b "$4" -t "$3" -J -p 5201) || { measure_failed "$what" "$(iperf3_error "$out")"; return 1; }
  jq -er '.end.sum | select((.packets | numbers) > 0 and (.seconds | numbers) > 0)
          | "\((.packets - .lost_packets) / .seconds) \(.lost_percent)"' <<<"$out" 2>/dev/null ||
    { measure_failed "$what" "$(iperf3_error "$out")"; return 1; }
}

# iperf3_error JSON -> its "error" member, else the first lines of the output
iperf3_error() { jq -er '.error | strings' <<<"$1" 2>/dev/null || { [ -n "$1" ] && head -c 300 <<<"$1"; } || echo "no output"; }

# ping_ms NS_FROM DST COUNT [INTERVAL_S] -> "avg p99"
ping_ms() {
  local out
  out=$(ip netns exec "$1" ping -c "$3" -i "${4:-0.01}" -W 1 "$2" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -g |
    awk '{ v[NR] = $1; s += $1 } END { if (NR == 0) exit 1; i = int(NR * 0.99 + 0.999); if (i > NR) i = NR; printf "%.4f %.4f\n", s / NR, v[i] }') ||
    { measure_failed "ping $1 -> $2" "no reply"; return 1; }
  echo "$out"
}

# cpu_ticks PID... -> utime+stime of the processes in clock ticks
cpu_ticks() {
  local pid t=0 f
  for pid in "$@"; do
    f=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || continue
    t=$((t + ${f% *} + ${f#* }))
  done
  echo $t
}

# rss_mib PID... -> the largest peak resident set (VmHWM) among the processes, MiB
rss_mib() {
  local pid m=0 k
  for pid in "$@"; do
    k=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
    [ -n "$k" ] && [ "$k" -gt "$m" ] && m=$k
  done
  awk -v k="$m" 'BEGIN { printf "%.1f\n", k / 1024 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
