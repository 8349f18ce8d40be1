namespace Flannel.Actors.Cmd;

// The answers of the palettes. Plain strings and numbers only, so any transport (JSON over TCP here) carries them
// unchanged and scripts using `--json` see stable field names.

/// <summary>A one-line acknowledgement (cluster leave, lease release, log level).</summary>
public sealed record CmdAck(string Message);

public sealed record MemberRow(
    string Address, string Status, IReadOnlyList<string> Roles, bool Reachable, bool IsLeader, bool IsSelf);

/// <param name="Partitioned">Why this node is cut off from the cluster's majority (see AgentState.Partitioned); null when it is not.</param>
public sealed record ClusterView(string Self, string? Leader, IReadOnlyList<MemberRow> Members, IReadOnlyList<string> Unreachable,
    string? Partitioned = null);

/// <summary>One membership event of `cluster tail`.</summary>
public sealed record ClusterEventRow(DateTimeOffset Time, string Event, string Address, string? Status, IReadOnlyList<string> Roles);

public sealed record LeaseRow(
    string Subnet, string Node, string PublicIp, string Backend, string? BackendData,
    DateTimeOffset Expiration, long Version, bool Live, bool Own, string Source = LeaseRow.LeaseSource)
{
    /// <summary>Where the entry comes from: the replicated lease table, or a Node's annotations (a node outside our
    /// cluster, e.g. on upstream flannel; no expiry of its own: it lasts as long as the Node and its annotations).</summary>
    public const string LeaseSource = "lease table";
    public const string KubeSource = "kube annotations";
}

public sealed record LeaseListView(string Self, IReadOnlyList<LeaseRow> Leases);

/// <summary>
/// Desired vs actual kernel state for one peer. <paramref name="State"/>: "in-sync", "drift" (the reconcile loop will
/// repair it; `ctl routes` marks it) or "ignored" (not programmed: other backend type, bad backend data, own lease).
/// </summary>
public sealed record RouteRow(string Subnet, string Peer, string State, string Desired, string Actual, IReadOnlyList<string> Differences,
    string Source = LeaseRow.LeaseSource)
{
    public const string InSync = "in-sync";
    public const string Drifted = "drift";
    public const string Ignored = "ignored";

    public bool Drift => State == Drifted;
}

public sealed record RoutesView(string Backend, IReadOnlyList<RouteRow> Routes);

public sealed record DropCount(string Direction, string Reason, long Count);

/// <summary>
/// One peer of the data path. UDP: packet/byte counters per direction and drops by reason;
/// vxlan: the FDB and neighbour entries the kernel holds for it (null where not applicable).
/// </summary>
public sealed record PeerRow(
    string Subnet, string PublicIp, string Backend,
    long TxPackets, long TxBytes, long RxPackets, long RxBytes, IReadOnlyList<DropCount> Drops,
    string? Fdb, string? Neighbour);

/// <summary>Tunnel-wide traffic since the tunnel started (tx: to peers, rx: from peers).</summary>
public sealed record TunnelTotals(long TxPackets, long TxBytes, long RxPackets, long RxBytes)
{
    /// <summary>Received packets written to the TUN as GSO super-packets, and how many such writes, per protocol.</summary>
    public Flannel.Net.Tunnel.CoalescingCounters Coalescing { get; init; }

    /// <summary>What the TC-BPF path carried in the kernel (udp-datapath bpf), null on the TUN path alone.</summary>
    public BpfTotals? Bpf { get; init; }
}

/// <summary>Inner packets and bytes the TC-BPF path encapsulated (tx) and decapsulated (rx).</summary>
public sealed record BpfTotals(long TxPackets, long TxBytes, long RxPackets, long RxBytes);

/// <summary>All peers, the tunnel's drops by direction and reason, and its totals (null when the backend has no tunnel).</summary>
public sealed record PeersView(string Backend, IReadOnlyList<PeerRow> Peers, IReadOnlyList<DropCount> Drops, TunnelTotals? Tunnel);

public sealed record ConfigView(string NetConf, string Version, string Source, DateTimeOffset? Loaded);

public sealed record BackendView(string Type, string State, string? Device, int? Mtu, IReadOnlyDictionary<string, string> Details);

public sealed record ActorNode(string Path, string Type, IReadOnlyList<ActorNode> Children);

public sealed record ActorHierarchyView(IReadOnlyList<ActorNode> Roots);

public sealed record LogLevelView(string Level, string? Previous);
