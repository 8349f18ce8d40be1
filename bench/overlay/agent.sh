# Sourced by bench/overlay.sh after topology.sh: the real flanneld agents (mutual TLS, as deployed) on the two hosts,
# each holding the subnet its pod sits in (10.77.i.0/24, taken from a subnet.env written beforehand, which flanneld
# prefers), and host-gw configured by hand as the baseline of the agent-host-gw path. Needs: WORK, TAG, FLANNELD
# (command running flanneld), and the names topology.sh defines. AGENT_EXTRA_ARGS: more flanneld flags; AGENT_ENV:
# NAME=VALUE words for flanneld's environment only (e.g. DOTNET_ runtime settings to try). AGENT_DATAPATH: the udp
# backend's --udp-datapath on both hosts; AGENT_DATAPATH_1 / AGENT_DATAPATH_2 override it for one host (mixed hosts).
AGENT_PIDS=()   # flanneld on host 1, host 2 (agent_up starts from none)
KUBE_SERVER_PID=   # kube-test-server of agent_kube_up (it does not end on SIGTERM: agent_down ends it with SIGKILL)
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
  local backend=$1 i local_ip remote_ip o out dp
  printf '{"Network":"%s","SubnetLen":24,"Backend":{"Type":"%s"}}\n' "$NETWORK" "$backend" >"$WORK/net-conf.json"
  for i in 1 2; do
    read -r local_ip remote_ip o < <(peer_of $i)
    # The pods sit in 10.77.i.0/24: a previous subnet.env is the lease flanneld asks for first.
    printf 'FLANNEL_NETWORK=%s\nFLANNEL_SUBNET=10.77.%s.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n' "$NETWORK" $i >"$WORK/subnet-h$i.env"
    out=$WORK/agent$i.log
    : >"$out"
    dp=AGENT_DATAPATH_$i; dp=${!dp:-${AGENT_DATAPATH:-}}
    env ${AGENT_ENV:-} ip netns exec ${TAG}h$i $FLANNELD --iface ${TAG}u$i --net-config-path "$WORK/net-conf.json" \
      --subnet-file "$WORK/subnet-h$i.env" --node-name ${TAG}h$i --cluster-port $AGENT_PORT \
      --cluster-seeds "$U1:$AGENT_PORT,$U2:$AGENT_PORT" --cmd-socket "$WORK/agent$i.sock" \
      --lease-store "$WORK/leases-$backend-h$i" \
      --cluster-tls-cert "$WORK/tls-h$i/tls.crt" --cluster-tls-key "$WORK/tls-h$i/tls.key" --cluster-tls-ca "$WORK/tls-h$i/ca.crt" \
      ${dp:+--udp-datapath $dp} ${AGENT_EXTRA_ARGS:-} >"$out" 2>&1 &
    AGENT_PIDS+=($!)
  done
  for i in 1 2; do agent_ready $i "${AGENT_PIDS[$((i - 1))]}" || return 1; done
  case $backend in vxlan) set_pod_mtu 1450 ;; udp) set_pod_mtu 1472 ;; *) set_pod_mtu 1500 ;; esac
}

# agent_kube_up HOST DATAPATH: flanneld (udp backend, --udp-datapath DATAPATH) on HOST alone, in Kubernetes mode
# against kube-test-server (KUBE_TEST_SERVER, run inside HOST's namespace on its loopback), as a DaemonSet agent of a
# cluster whose other Node runs upstream flannel: that Node carries flannel's annotations (kube-subnet-manager true,
# backend-type udp, backend-data null, public-ip) and no flannel pod of ours, so the agent programs it as a peer from
# its annotations (Routes/ForeignPeers), the way a cluster half on upstream flannel is seen (issue #17). Returns once
# the agent is ready with that peer programmed and holds 10.77.HOST.0/24 (its Node's podCIDR).
agent_kube_up() {
  local i=$1 dp=$2 o local_ip remote_ip out state=$WORK/kube-state.yaml
  read -r local_ip remote_ip o < <(peer_of "$i")
  local netconf; netconf=$(printf '{"Network":"%s","Backend":{"Type":"udp"}}' "$NETWORK")
  {
    printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-flannel\n'
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-flannel-cfg\n  namespace: kube-flannel\n  labels:\n    app: flannel\n'
    printf "data:\n  net-conf.json: '%s'\n" "$netconf"
    local n ip
    for n in "$i $local_ip" "$o $remote_ip"; do
      read -r n ip <<<"$n"
      printf -- '---\napiVersion: v1\nkind: Node\nmetadata:\n  name: %sh%s\n' "$TAG" "$n"
      if [ "$n" = "$o" ]; then
        printf '  annotations:\n'
        printf '    flannel.alpha.coreos.com/kube-subnet-manager: "true"\n    flannel.alpha.coreos.com/backend-type: udp\n'
        printf '    flannel.alpha.coreos.com/backend-data: "null"\n    flannel.alpha.coreos.com/public-ip: %s\n' "$ip"
      fi
      printf 'spec:\n  podCIDR: 10.77.%s.0/24\n  podCIDRs: ["10.77.%s.0/24"]\n' "$n" "$n"
      printf 'status:\n  addresses:\n  - type: InternalIP\n    address: %s\n' "$ip"
      printf '  conditions:\n  - type: Ready\n    status: "True"\n    reason: KubeletReady\n'
    done
    # Only our agent's pod: the other node runs upstream flannel, not a member of our cluster.
    printf -- '---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-flannel-ds-%sh%s\n  namespace: kube-flannel\n' "$TAG" "$i"
    printf '  labels:\n    app: flannel\n    tier: node\nspec:\n  nodeName: %sh%s\n  hostNetwork: true\n' "$TAG" "$i"
    printf '  containers:\n  - name: kube-flannel\n    image: flanneld\nstatus:\n  phase: Running\n  podIP: %s\n  hostIP: %s\n' "$local_ip" "$local_ip"
  } >"$state"
  : >"$WORK/kube-test-server.log"
  ip netns exec ${TAG}h$i "$KUBE_TEST_SERVER" --address 127.0.0.1 --port 6443 --state "$state" --kubeconfig "$WORK/kubeconfig" \
    --bookmark-interval-ms 2000 >"$WORK/kube-test-server.log" 2>&1 &
  KUBE_SERVER_PID=$!
  local deadline=$((SECONDS + 30))
  until [ -f "$WORK/kubeconfig" ] && grep -q listening "$WORK/kube-test-server.log"; do
    if [ $SECONDS -ge $deadline ]; then echo "kube-test-server did not start:" >&2; cat "$WORK/kube-test-server.log" >&2; return 1; fi
    sleep 0.1
  done
  printf 'FLANNEL_NETWORK=%s\nFLANNEL_SUBNET=10.77.%s.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n' "$NETWORK" "$i" >"$WORK/subnet-h$i.env"
  out=$WORK/agent$i.log
  : >"$out"
  env ${AGENT_ENV:-} ip netns exec ${TAG}h$i $FLANNELD --iface ${TAG}u$i --kube-subnet-mgr --kubeconfig-file "$WORK/kubeconfig" \
    --net-config-path "$WORK/no-mounted-net-conf.json" --subnet-file "$WORK/subnet-h$i.env" --node-name ${TAG}h$i \
    --cluster-port $AGENT_PORT --cmd-socket "$WORK/agent$i.sock" --lease-store "$WORK/leases-kube-h$i" \
    --cluster-tls-cert "$WORK/tls-h$i/tls.crt" --cluster-tls-key "$WORK/tls-h$i/tls.key" --cluster-tls-ca "$WORK/tls-h$i/ca.crt" \
    --udp-datapath "$dp" ${AGENT_EXTRA_ARGS:-} >"$out" 2>&1 &
  AGENT_PIDS+=($!)
  agent_ready "$i" "${AGENT_PIDS[-1]}" || return 1
  set_pod_mtu 1472
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

# agent_pause: SIGSTOP both agents (the agent-*-paused paths); agent_down resumes them before it ends them.
agent_pause() {
  local pid
  for pid in "${AGENT_PIDS[@]}"; do kill -STOP "$pid"; done
}

# agent_down: SIGTERM both agents, then remove what flanneld leaves on purpose across restarts (its device, routes and
# rules: a restarted flanneld reuses them), so the next path starts from the bare topology.
agent_down() {
  local pid i o
  for pid in "${AGENT_PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${AGENT_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  AGENT_PIDS=()
  if [ -n "$KUBE_SERVER_PID" ]; then kill -KILL "$KUBE_SERVER_PID" 2>/dev/null || true; wait "$KUBE_SERVER_PID" 2>/dev/null || true; fi
  KUBE_SERVER_PID=
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

# forward_rules_up / forward_rules_down: flanneld's FORWARD rules (Flannel.Net.Masq.MasqRules, same text) on both hosts,
# for the *-fwd paths: what a node with flanneld's configuration pays per forwarded packet, without the agent.
forward_rules_up() {
  local i
  for i in 1 2; do
    nsx ${TAG}h$i iptables -N FLANNEL-FWD
    nsx ${TAG}h$i iptables -A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
    nsx ${TAG}h$i iptables -A FLANNEL-FWD -s $NETWORK -m comment --comment "flanneld forward" -j ACCEPT
    nsx ${TAG}h$i iptables -A FLANNEL-FWD -d $NETWORK -m comment --comment "flanneld forward" -j ACCEPT
  done
}
forward_rules_down() {
  local i
  for i in 1 2; do nsx ${TAG}h$i iptables -F; nsx ${TAG}h$i iptables -X; done
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
