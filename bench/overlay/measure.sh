# Sourced by bench/overlay.sh: one measurement of each kind, printing a bare number. Needs jq.

# tcp_gbps NS_FROM DST STREAMS SECONDS -> received Gbit/s
tcp_gbps() {
  local out
  out=$(ip netns exec "$1" iperf3 -c "$2" -P "$3" -t "$4" -J -p 5201) || { echo "iperf3 tcp failed: $out" >&2; echo 0; return; }
  jq -r '.end.sum_received.bits_per_second / 1e9' <<<"$out"
}

# udp64 NS_FROM DST SECONDS BITRATE -> "received_pps loss_pct" (64-byte payloads; BITRATE 0 = unlimited)
udp64() {
  local out
  out=$(ip netns exec "$1" iperf3 -c "$2" -u -l 64 -b "$4" -t "$3" -J -p 5201) || { echo "iperf3 udp failed: $out" >&2; echo "0 100"; return; }
  jq -r '(.end.sum.packets - .end.sum.lost_packets) / .end.sum.seconds | tostring' <<<"$out" | tr '\n' ' '
  jq -r '.end.sum.lost_percent' <<<"$out"
}

# ping_ms NS_FROM DST COUNT [INTERVAL_S] -> "avg p99"
ping_ms() {
  ip netns exec "$1" ping -c "$3" -i "${4:-0.01}" -W 1 "$2" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -g |
    awk '{ v[NR] = $1; s += $1 } END { if (NR == 0) { print "0 0"; exit } i = int(NR * 0.99 + 0.999); if (i > NR) i = NR; printf "%.4f %.4f\n", s / NR, v[i] }'
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
