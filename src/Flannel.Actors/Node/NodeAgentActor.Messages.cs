using Flannel.Actors.Leases;
using Flannel.Actors.Routes;
using Flannel.Net.Backends;
using Flannel.Net.Config;

namespace Flannel.Actors.Node;

/// <summary>The host side effects of the start sequence; the agent supplies the real ones, tests fakes.</summary>
public interface INodeEffects
{
    /// <summary>Writes subnet.env for <paramref name="lease"/> (FLANNEL_MTU from <paramref name="mtu"/>).</summary>
    void WriteSubnetEnv(NetConf conf, Lease lease, int mtu);

    /// <summary>Makes the ip-masq (and forward) rules match the lease: applies what is missing, idempotent.
    /// Returns the number of rules (re)applied. Does nothing when --ip-masq is off.</summary>
    int EnsureMasq(NetConf conf, Lease lease);

    /// <summary>The periodic check: <see cref="EnsureMasq"/> without holding a thread while the commands run.</summary>
    Task<int> EnsureMasqAsync(NetConf conf, Lease lease) => Task.Run(() => EnsureMasq(conf, lease));
}

/// <summary>What the node agent orchestrates.</summary>
/// <param name="Backend">Already prepared (its lease data is in the lease options).</param>
/// <param name="MasqResync">How often the ip-masq rules are checked (flannel's --iptables-resync, 5 s).</param>
public sealed record NodeAgentSettings(
    string NodeName,
    NetConf Conf,
    IBackend Backend,
    INodeEffects Effects,
    RouteProgrammerSettings Routes,
    TimeSpan MasqResync)
{
    /// <summary>
    /// Kubernetes mode, set only while this process has held no lease yet and subnet.env already names the Node's
    /// podCIDR (a restart): that podCIDR as the API server gave it. The Node objects are the authoritative lease source
    /// there (the allocator grants nothing else), so the node agent configures the backend on it at once and starts the
    /// route programmer, which programs the peers the Nodes' flannel annotations name (<see cref="ForeignPeers"/>: no
    /// member is known yet) until the cluster's lease table replaces them. A restarted agent forwards before it can join
    /// a cluster (a partition, the allocator out of reach). Null: nothing before the lease, as flannel's start order.
    /// </summary>
    public System.Net.IPNetwork? ApiSubnet { get; init; }
}

/// <summary>Reply: the routes child, once the lease is held or the backend was set up on
/// <see cref="NodeAgentSettings.ApiSubnet"/> (null before). For ctl and tests.</summary>
public sealed record GetRouteProgrammer
{
    public static readonly GetRouteProgrammer Instance = new();
}

public sealed record RouteProgrammerRef(Akka.Actor.IActorRef? Ref);

/// <summary>
/// The <see cref="BackendSwitchActor"/>'s one answer to the node agent: the data plane now runs
/// <paramref name="BackendType"/> (the new one, or the old one when <paramref name="Error"/> says why not).
/// </summary>
/// <param name="Lease">The own lease as re-advertised with the new backend (null when that failed).</param>
public sealed record BackendSwitched(
    NetConfig.ApplyClusterNetConf Apply, string BackendType, int Mtu, Leases.Lease? Lease, string? Error)
{
    /// <summary>The new backend runs although a later step failed (the lease was not re-advertised).</summary>
    public bool BackendReplaced { get; init; } = Error is null;
}
