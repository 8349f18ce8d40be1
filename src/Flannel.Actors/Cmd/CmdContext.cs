using Akka.Cluster;

namespace Flannel.Actors.Cmd;

/// <summary>
/// What the palettes (and the metrics scraper) may look at in a running agent. The agent fills in what it has;
/// a palette whose source is missing answers "not available on this agent" instead of failing the host.
/// Every delegate is called off the data path, only when an operator or a scrape asks.
/// </summary>
public sealed class CmdContext
{
    /// <summary>This node's name as it appears in leases (Lease.Node).</summary>
    public string NodeName { get; init; } = Environment.MachineName;

    /// <summary>The lease table (normally <see cref="SubnetLeaseTable"/> over the SubnetLeaseActor).</summary>
    public ILeaseTable? Leases { get; init; }

    /// <summary>Desired vs actual kernel state per peer, from the backend's Inspect.</summary>
    public Func<CancellationToken, Task<RoutesView>>? Routes { get; init; }

    /// <summary>Per-peer data path state: tunnel counters (udp) or FDB/neighbour entries (vxlan).</summary>
    public Func<CancellationToken, Task<PeersView>>? Peers { get; init; }

    /// <summary>The net-conf in force, its version and where it came from.</summary>
    public Func<CancellationToken, Task<ConfigView>>? Config { get; init; }

    /// <summary>Why this node is partitioned from the cluster's majority, or null (shown by `cluster show`).</summary>
    public Func<string?>? Partitioned { get; init; }

    /// <summary>The running backend.</summary>
    public Func<CancellationToken, Task<BackendView>>? Backend { get; init; }

    /// <summary>
    /// The agent's whole state for `flanneld ctl status` (the host's StatusView: readiness, lease, lease table, members,
    /// reconcile counters). Typed object because the view lives in the host; it is serialized as it is.
    /// </summary>
    public Func<CancellationToken, Task<object>>? Status { get; init; }

    /// <summary>The process's log level (Microsoft.Extensions.Logging side); Akka's level is set by the log palette.</summary>
    public ILogLevelSwitch? LogLevel { get; init; }

    /// <summary>
    /// Whether a lease belongs to a node that is alive in the cluster (lease release refuses those without --force).
    /// Default: <see cref="LeaseLiveness.IsLive"/> (a reachable Up member whose host is the lease's public IP or node name).
    /// </summary>
    public Func<LeaseRow, ClusterEvent.CurrentClusterState, bool>? IsLive { get; init; }

    /// <summary>How long a palette waits for a source before answering with an error.</summary>
    public TimeSpan SourceTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
