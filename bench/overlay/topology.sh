# Sourced by bench/overlay.sh. Two hosts (network namespaces) on an underlay veth, each with a pod namespace behind a
# bridge; the overlays (kernel vxlan, our udp tunnel) are added and removed on top. All addresses live only inside the
# namespaces created here. Needs: TAG (unique short prefix), TUNNEL_HOST (command running Flannel.TunnelHost).

H1=${TAG}h1 H2=${TAG}h2 P1=${TAG}p1 P2=${TAG}p2
# The underlay on the benchmarking range 198.18.0.0/15 (as the demo), so it clashes with nothing real.
U1=198.18.77.1 U2=198.18.77.2
POD1=10.77.1.2 POD2=10.77.2.2
NETWORK=10.77.0.0/16
TUNNEL_PIDS=()

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# peer_of HOST -> "LOCAL_IP REMOTE_IP OTHER_HOST"
peer_of() { if [ "$1" = 1 ]; then echo "$U1 $U2 2"; else echo "$U2 $U1 1"; fi; }

topo_up() {
  for ns in $H1 $H2 $P1 $P2; do ip netns add "$ns"; nsx "$ns" ip link set lo up; done
  ip link add ${TAG}u1 netns $H1 type veth peer name ${TAG}u2 netns $H2
  nsx $H1 ip addr add $U1/24 dev ${TAG}u1; nsx $H1 ip link set ${TAG}u1 up
  nsx $H2 ip addr add $U2/24 dev ${TAG}u2; nsx $H2 ip link set ${TAG}u2 up
  local i
  for i in 1 2; do
    local h=${TAG}h$i p=${TAG}p$i
    nsx $h sysctl -qw net.ipv4.ip_forward=1
    nsx $h ip link add cni0 type bridge
    nsx $h ip addr add 10.77.$i.1/24 dev cni0
    nsx $h ip link set cni0 up
    ip link add ${TAG}v$i netns $h type veth peer name eth0 netns $p
    nsx $h ip link set ${TAG}v$i master cni0 up
    nsx $p ip addr add 10.77.$i.2/24 dev eth0
    nsx $p ip link set eth0 up
    nsx $p ip route add default via 10.77.$i.1
  done
}

topo_down() {
  udp_down 2>/dev/null || true
  for ns in $P1 $P2 $H1 $H2; do ip netns delete "$ns" 2>/dev/null || true; done
}

set_pod_mtu() {
  local i
  for i in 1 2; do
    nsx ${TAG}p$i ip link set eth0 mtu "$1"
    nsx ${TAG}h$i ip link set ${TAG}v$i mtu "$1"
  done
}

# flannel's vxlan backend, configured by hand: VNI 1, kernel port, no learning, permanent neighbour + FDB per peer.
vxlan_up() {
  local i h o local_ip remote_ip
  for i in 1 2; do
    h=${TAG}h$i
    read -r local_ip remote_ip o < <(peer_of $i)
    nsx $h ip link add flannel.1 type vxlan id 1 local $local_ip dstport 8472 nolearning
    nsx $h ip link set flannel.1 address 02:77:00:00:00:0$i mtu 1450 up
    nsx $h ip addr add 10.77.$i.0/32 dev flannel.1
    nsx $h ip neigh add 10.77.$o.0 lladdr 02:77:00:00:00:0$o dev flannel.1 nud permanent
    nsx $h bridge fdb append 02:77:00:00:00:0$o dev flannel.1 dst $remote_ip
    nsx $h ip route add 10.77.$o.0/24 via 10.77.$o.0 dev flannel.1 onlink
  done
  set_pod_mtu 1450
}

vxlan_down() {
  nsx $H1 ip link del flannel.1; nsx $H2 ip link del flannel.1
}

# tun_ready HOST OUT PATTERN NAME: waits (30 s at most) for the process just started into TUNNEL_PIDS to print
# PATTERN to OUT, then gives flannel0 the lease IP /32, the MTU and the network route, like flannel.
tun_ready() {
  local i=$1 out=$2 deadline=$((SECONDS + 30))
  until grep -q "$3" "$out" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "${TUNNEL_PIDS[-1]}" 2>/dev/null; then
      echo "$4 on host $i did not start:" >&2; cat "$out" >&2; return 1
    fi
    sleep 0.1
  done
  nsx ${TAG}h$i ip addr add 10.77.$i.0/32 dev flannel0
  nsx ${TAG}h$i ip link set flannel0 mtu 1472 up
  nsx ${TAG}h$i ip route add $NETWORK dev flannel0
}

# udp_up [HOSTS]: our tunnel, one Flannel.TunnelHost per host (default both).
udp_up() {
  local i local_ip remote_ip o out
  for i in ${1:-1 2}; do
    read -r local_ip remote_ip o < <(peer_of $i)
    out=$WORK/tunnel$i.out
    rm -f "$out"
    ip netns exec ${TAG}h$i $TUNNEL_HOST --local $local_ip --tun-address 10.77.$i.0 --subnet 10.77.$i.0/24 --peer 10.77.$o.0/24=$remote_ip \
      --stats-file $WORK/tunnel$i.json ${UDP_EXTRA_ARGS:-} >"$out" 2>&1 &
    TUNNEL_PIDS+=($!)
    tun_ready $i "$out" '"event":"ready"' "tunnel host" || return 1
  done
  set_pod_mtu 1472
}

udp_down() {
  local pid
  for pid in "${TUNNEL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${TUNNEL_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  TUNNEL_PIDS=()
}

# flannel's own udp data path (its C proxy from a flannel checkout, FLANNEL_SRC, driven by flannel-udp-main.c), built
# into $WORK/flannel-udp-proxy. Nothing of flannel's is kept in this repository.
flannel_udp_build() {
  local dir=$FLANNEL_SRC/backend/udp src hdr
  if [ -f "$dir/proxy_amd64.c" ]; then src=$dir/proxy_amd64.c hdr=proxy_amd64.h
  elif [ -f "$dir/proxy.c" ]; then src=$dir/proxy.c hdr=proxy.h
  else echo "FLANNEL_SRC=$FLANNEL_SRC: no backend/udp/proxy_amd64.c or proxy.c (a flannel checkout with the udp backend)" >&2; return 1
  fi
  command -v cc >/dev/null || { echo "flannel-udp: a C compiler (cc) is needed" >&2; return 1; }
  cc -O2 -w -I"$dir" "-DPROXY_HEADER=\"$hdr\"" -o "$WORK/flannel-udp-proxy" bench/overlay/flannel-udp-main.c "$src"
}

# flannel_udp_up HOSTS: flannel's proxy on the given hosts (1, 2 or "1 2").
flannel_udp_up() {
  local i local_ip remote_ip o out
  for i in $1; do
    read -r local_ip remote_ip o < <(peer_of $i)
    out=$WORK/flannel$i.out
    ip netns exec ${TAG}h$i "$WORK/flannel-udp-proxy" flannel0 $local_ip 10.77.$i.0 1472 10.77.$o.0/24 $remote_ip >"$out" 2>&1 &
    TUNNEL_PIDS+=($!)
    tun_ready $i "$out" '^ready' "flannel's udp proxy" || return 1
  done
  set_pod_mtu 1472
}
