using System.Net;
using Flannel.Net.Backends;

namespace Flannel.Actors.Routes;

/// <summary>How the route programmer runs.</summary>
/// <param name="NodeName">Own node: its leases are never programmed as peers.</param>
/// <param name="Period">Periodic reconcile even without any notification (flannel's host-gw re-adds routes every 10 s).</param>
/// <param name="Debounce">Kernel notifications come in bursts (our own changes included): one pass per burst.</param>
/// <param name="WatchKernel">Subscribes a callback to kernel change notifications (netlink); null = none (tests).</param>
public sealed record RouteProgrammerSettings(
    string NodeName,
    TimeSpan Period,
    TimeSpan Debounce,
    Func<Action, IDisposable>? WatchKernel = null)
{
    /// <summary>The accepted net-conf's Network; required: peers outside it are never programmed. The node agent sets
    /// it from the config it runs with (Network never changes while the cluster runs).</summary>
    public IPNetwork? Network { get; init; }

    /// <summary>Kubernetes mode: the source of Nodes with flannel annotations and live member hosts
    /// (<see cref="Kubernetes.ForeignNodesActor"/>); its Nodes outside our cluster are programmed too. Null: leases only.</summary>
    public Akka.Actor.IActorRef? ForeignNodes { get; init; }

    /// <summary>How long the first pass waits for <see cref="ForeignNodes"/>' first view (a Node list from the API)
    /// before programming the lease table alone.</summary>
    public TimeSpan ForeignViewWait { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The own subnet and public IP while no lease is held (<see cref="Node.NodeAgentSettings.ApiSubnet"/>):
    /// peers overlapping it or claiming the address are refused as they are once the lease comes. Null: no lease, no
    /// own subnet.</summary>
    public (IPNetwork Subnet, IPAddress PublicIp)? SelfBeforeLease { get; init; }

    public static readonly TimeSpan DefaultPeriod = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultDebounce = TimeSpan.FromMilliseconds(250);
}

/// <summary>Something in the kernel changed (netlink notification): compare and repair soon.</summary>
public sealed record KernelChanged
{
    public static readonly KernelChanged Instance = new();
}

/// <summary>Run a reconcile pass now (ctl, tests). Reply: <see cref="ReconcileCompleted"/> after the pass.</summary>
public sealed record ReconcileNow
{
    public static readonly ReconcileNow Instance = new();
}

/// <summary>The result of one pass over <paramref name="Peers"/>.</summary>
public sealed record ReconcileCompleted(IReadOnlyList<PeerLease> Peers, ReconcileReport Report, string Trigger);

/// <summary>Desired versus actual state per peer (backend Inspect, run off the actor thread). Reply: <see cref="RouteStatus"/>.</summary>
public sealed record GetRouteStatus
{
    public static readonly GetRouteStatus Instance = new();
}

/// <param name="Foreign">Subnets programmed from Kubernetes annotations, with their node (the rest come from the lease table).</param>
public sealed record RouteStatus(string Backend, IReadOnlyList<PeerRouteStatus> Peers, IReadOnlyDictionary<IPNetwork, string>? Foreign = null);

/// <summary>The peers the programmer currently wants in the kernel. Reply: <see cref="DesiredPeerSet"/>.</summary>
public sealed record GetDesiredPeers
{
    public static readonly GetDesiredPeers Instance = new();
}

public sealed record DesiredPeerSet(IReadOnlyList<PeerLease> Peers);
