using Akka.Actor;
using Flannel.Actors.NetConfig;
using Flannel.Actors.Node;
using Flannel.Actors.Routes;
using Flannel.Net.Backends;

namespace Flannel.Actors.Cmd;

/// <summary>
/// Builds the <see cref="CmdContext"/> of a running agent from its actors and backend: the lease table from the
/// SubnetLeaseActor, routes from the route programmer's GetRouteStatus (Inspect runs off its actor thread, under the
/// backend's lock), peers from its desired set plus the UDP tunnel's counters, the net-conf in force and its cluster version from the
/// ClusterNetConfActor.
/// </summary>
public static class AgentCmdContext
{
    public static CmdContext Create(
        string nodeName, IActorRef leases, IActorRef node, IActorRef netConf, IBackend backend, AgentStatus status,
        ILogLevelSwitch? logLevel, TimeSpan? timeout = null, Func<object>? statusView = null)
    {
        var t = timeout ?? TimeSpan.FromSeconds(5);

        async Task<IActorRef> Programmer(CancellationToken ct)
        {
            var reply = await node.Ask<RouteProgrammerRef>(GetRouteProgrammer.Instance, t, ct);
            return reply.Ref ?? throw new InvalidOperationException("routes are not programmed yet (no lease held)");
        }

        async Task<RouteStatus> Routes(CancellationToken ct) =>
            await (await Programmer(ct)).Ask<RouteStatus>(GetRouteStatus.Instance, t, ct);

        return new CmdContext
        {
            NodeName = nodeName,
            Leases = new SubnetLeaseTable(leases, t, () => status.Current.ForeignPeers),
            Routes = async ct =>
            {
                var s = await Routes(ct);
                return CmdSources.ToRoutesView(s.Backend, s.Peers, s.Foreign);
            },
            Peers = async ct =>
            {
                var programmer = await Programmer(ct);
                var desired = await programmer.Ask<DesiredPeerSet>(GetDesiredPeers.Instance, t, ct);
                var current = Running(backend);
                var tunnel = current is UdpBackend { DataPath: UdpTunnelDataPath dp } ? dp.Snapshot() : null;
                var statuses = current is UdpBackend ? null : (await Routes(ct)).Peers;
                return CmdSources.ToPeersView(current.Type, desired.Peers, tunnel, statuses);
            },
            Config = async ct =>
            {
                var c = (await netConf.Ask<ClusterNetConfStatus>(GetClusterNetConf.Instance, t, ct)).InForce;
                return new ConfigView(c.Json, c.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), c.Source, c.Since);
            },
            Backend = _ => Task.FromResult(BackendView(Running(backend), status.Current)),
            LogLevel = logLevel,
            Status = statusView is null ? null : _ => Task.FromResult(statusView()),
            Partitioned = () => status.Current.Partitioned,
            SourceTimeout = t,
        };
    }

    /// <summary>The agent holds a <see cref="SwitchableBackend"/>; type-specific views need the backend running inside it.</summary>
    private static IBackend Running(IBackend backend) => backend is SwitchableBackend s ? s.Current : backend;

    public static BackendView BackendView(IBackend backend, AgentState state)
    {
        var details = new Dictionary<string, string>(StringComparer.Ordinal);
        if (state.PublicIp is { } ip) details["public-ip"] = ip;
        if (state.Lease is { } lease) details["lease"] = lease.Subnet.ToString();
        if (backend.LeaseData is { } data) details["lease-data"] = data;
        details["peers"] = $"{state.PeersProgrammed}/{state.PeersDesired} programmed";
        details["reconcile-runs"] = state.ReconcileRuns.ToString();
        details["repairs"] = $"{state.Repairs} ({state.DriftRepairs} drift)";
        if (state.LastReconcile is { } last) details["last-reconcile"] = last.ToString("O");
        if (state.LastErrors.Count > 0) details["last-errors"] = string.Join("; ", state.LastErrors);
        string? device = null;
        switch (backend)
        {
            case UdpBackend udp:
                device = udp.DeviceName;
                details["udp-datapath"] = $"{udp.Datapath} ({udp.DatapathReason})";
                if (udp.DataPath is UdpTunnelDataPath dp)
                {
                    details["tunnel-queues"] = dp.Tunnel.Queues.ToString();
                    // Idle queues but the first have no thread (UdpTunnelOptions.IdleRelease).
                    details["tunnel-queues-running"] = dp.Tunnel.RunningQueues.ToString();
                    details["tunnel-offload"] = dp.Tunnel.TunOffload ? "on" : "off";
                    details["udp-gso"] = dp.Tunnel.UdpGso ? "on" : "off";
                    details["udp-gro"] = dp.Tunnel.UdpGro ? "on" : "off";
                }
                break;
            case VxlanBackend vxlan:
                device = vxlan.DeviceName;
                details["vtep-mac"] = vxlan.VtepMac.ToString();
                break;
        }
        var phase = state.Fatal is not null ? $"failed: {state.Fatal}"
            : state.BackendConfigured ? (state.PeersInSync ? "up, peers in sync" : "up, peers not in sync")
            : state.BackendPrepared ? "prepared (waiting for the lease)"
            : "starting";
        return new BackendView(backend.Type, phase, device, backend.Mtu, details);
    }
}
