# Sourced by bench/overlay.sh after topology.sh: the real flanneld agents (mutual TLS, as deployed) on the two hosts,
# each holding the subnet its pod sits in (10.77.i.0/24, taken from a subnet.env written beforehand, which flanneld
# prefers), and host-gw configured by hand as the baseline of the agent-host-gw path. Needs: WORK, TAG, FLANNELD
# (command running flanneld), and the names topology.sh defines. AGENT_EXTRA_ARGS: more flanneld flags; AGENT_ENV:
# NAME=VALUE words for flanneld's environment only (e.g. DOTNET_ runtime settings to try).
AGENT_PIDS=()   # flanneld on host 1, host 2 (agent_up starts from none)
AGENT_PORT=4053

# agent_credentials: a cluster CA and one node certificate per host (flanneld certs), once per benchmark.
agent_credentials() {
  local i local_ip remote_ip o
  $FLANNELD certs ca --out "$WORK/tls-ca" --name "$TAG overlay bench CA" --days 1 >/dev/null
  for i in 1 2; do
    read -r local_ip remote_ip o < <(peer_of $i)
    $FLANNELD certs node --ca-dir "$WORK/tls-ca" --out "$WORK/tls-h$i" --name "${TAG}h$i" --ip "$local_ip" --days 1 >/dev/null
  done
}

# agent_up BACKEND: flanneld on both hosts with net-conf {Network 10.77.0.0/16, Backend BACKEND}; returns once both
# are ready with their peer programmed and hold the subnet their pod is in, then sets the pods' MTU to the agent's.
agent_up() {
  local backend=$1 i local_ip remote_ip o out
  printf '{"Network":"%s","SubnetLen":24,"Backend":{"Type":"%s"}}\n' "$NETWORK" "$backend" >"$WORK/net-conf.json"
  for i in 1 2; do
    read -r local_ip remote_ip o < <(peer_of $i)
    # The pods sit in 10.77.i.0/24: a previous subnet.env is the lease flanneld asks for first.
    printf 'FLANNEL_NETWORK=%s\nFLANNEL_SUBNET=10.77.%s.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n' "$NETWORK" $i >"$WORK/subnet-h$i.env"
    out=$WORK/agent$i.log
    : >"$out"
    env ${AGENT_ENV:-} ip netns exec ${TAG}h$i $FLANNELD --iface ${TAG}u$i --net-config-path "$WORK/net-conf.json" \
      --subnet-file "$WORK/subnet-h$i.env" --node-name ${TAG}h$i --cluster-port $AGENT_PORT \
      --cluster-seeds "$U1:$AGENT_PORT,$U2:$AGENT_PORT" --cmd-socket "$WORK/agent$i.sock" \
      --lease-store "$WORK/leases-$backend-h$i" \
      --cluster-tls-cert "$WORK/tls-h$i/tls.crt" --cluster-tls-key "$WORK/tls-h$i/tls.key" --cluster-tls-ca "$WORK/tls-h$i/ca.crt" \
      ${AGENT_DATAPATH:+--udp-datapath $AGENT_DATAPATH} ${AGENT_EXTRA_ARGS:-} >"$out" 2>&1 &
    AGENT_PIDS+=($!)
  done
  for i in 1 2; do agent_ready $i "${AGENT_PIDS[$((i - 1))]}" || return 1; done
  case $backend in vxlan) set_pod_mtu 1450 ;; udp) set_pod_mtu 1472 ;; *) set_pod_mtu 1500 ;; esac
}

# agent_ready HOST PID: waits (60 s at most) until the agent reports ready, in sync with its one peer programmed, and
# checks it leased the subnet its pod is in.
agent_ready() {
  local i=$1 pid=$2 deadline=$((SECONDS + 60)) s
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "flanneld on host $i exited:" >&2; tail -20 "$WORK/agent$i.log" >&2; return 1; fi
    s=$($FLANNELD ctl --socket "$WORK/agent$i.sock" --json status 2>/dev/null) || s=
    if [ -n "$s" ] && jq -e '.ready and .reconcile.inSync and .reconcile.peersProgrammed >= 1' <<<"$s" >/dev/null 2>&1; then break; fi
    if [ $SECONDS -ge $deadline ]; then
      echo "flanneld on host $i not ready after 60 s: $(jq -c '{notReady, reconcile}' <<<"$s" 2>/dev/null)" >&2
      tail -20 "$WORK/agent$i.log" >&2; return 1
    fi
    sleep 0.5
  done
  local lease; lease=$(jq -r '.lease.subnet' <<<"$s")
  [ "$lease" = "10.77.$i.0/24" ] || { echo "flanneld on host $i leased $lease, not 10.77.$i.0/24 (its pod's subnet)" >&2; return 1; }
}

# agent_down: SIGTERM both agents, then remove what flanneld leaves on purpose across restarts (its device, routes and
# rules: a restarted flanneld reuses them), so the next path starts from the bare topology.
agent_down() {
  local pid i o
  for pid in "${AGENT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${AGENT_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  AGENT_PIDS=()
  for i in 1 2; do
    o=$((3 - i))
    for dev in flannel.1 flannel0; do nsx ${TAG}h$i ip link del $dev 2>/dev/null || true; done
    nsx ${TAG}h$i ip route del 10.77.$o.0/24 2>/dev/null || true
    nsx ${TAG}h$i ip route del $NETWORK 2>/dev/null || true
    # flanneld's FLANNEL-* chains (forward rules, masquerade): the by-hand paths run without them.
    if nsx ${TAG}h$i iptables-save 2>/dev/null | grep -q FLANNEL; then
      nsx ${TAG}h$i iptables -F; nsx ${TAG}h$i iptables -X
      nsx ${TAG}h$i iptables -t nat -F; nsx ${TAG}h$i iptables -t nat -X
    fi
  done
}

# host-gw, configured by hand like flannel's host-gw backend: a route to the other pod subnet via the other host.
hostgw_up() {
  local i local_ip remote_ip o
  for i in 1 2; do
    read -r local_ip remote_ip o < <(peer_of $i)
    nsx ${TAG}h$i ip route add 10.77.$o.0/24 via $remote_ip dev ${TAG}u$i
  done
  set_pod_mtu 1500
}

hostgw_down() {
  nsx $H1 ip route del 10.77.2.0/24; nsx $H2 ip route del 10.77.1.0/24
}
