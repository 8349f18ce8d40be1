using Flannel.Actors.Node;

namespace Flannel.Host.Health;

/// <summary>
/// The agent's state for `flanneld ctl status` (the demo and the end-to-end tests read it through the command socket).
/// Strings only.
/// </summary>
public sealed record StatusView(
    string Node,
    bool Ready,
    IReadOnlyList<string> NotReady,
    string? Fatal,
    string? Backend,
    string? PublicIp,
    LeaseView? Lease,
    IReadOnlyList<LeaseView> Leases,
    IReadOnlyList<MemberView> Members,
    ReconcileView Reconcile,
    IReadOnlyDictionary<string, long>? TunnelDrops)
{
    /// <summary>Lease table entries refused as peers: "subnet node publicIp reason".</summary>
    public IReadOnlyList<string> RejectedLeases { get; init; } = [];

    /// <summary>udp backend: "bpf" or "tun" (the TC-BPF path or the user-space tunnel alone); null for other backends.</summary>
    public string? UdpDatapath { get; init; }

    public static StatusView From(AgentState s, IReadOnlyList<MemberView> members, IReadOnlyDictionary<string, long>? tunnelDrops) => new(
        s.NodeName, s.Ready, s.NotReadyReasons, s.Fatal, s.BackendType, s.PublicIp,
        s.Lease is { } l ? LeaseView.From(l) : null,
        s.Leases.Select(LeaseView.From).ToList(),
        members,
        new ReconcileView(s.PeersDesired, s.PeersProgrammed, s.PeersInSync, s.ReconcileRuns, s.Repairs, s.DriftRepairs,
            s.LastReconcile, s.LastErrors),
        tunnelDrops)
    {
        RejectedLeases = s.RejectedLeases
            .Select(r => $"{r.Peer.Subnet} {r.Node ?? "-"} {r.Peer.PublicIp} {Flannel.Net.Backends.PeerFilter.Label(r.Reason)}").ToList(),
    };
}

public sealed record LeaseView(string Subnet, string Node, string PublicIp, string Backend, string? BackendData, DateTimeOffset Expiration, long Version)
{
    public static LeaseView From(Flannel.Actors.Leases.Lease l) =>
        new(l.Subnet.ToString(), l.Node, l.PublicIp.ToString(), l.BackendType, l.BackendData, l.Expiration, l.Version);
}

public sealed record MemberView(string Address, string Status, bool Reachable, bool Leader);

public sealed record ReconcileView(
    int PeersDesired, int PeersProgrammed, bool InSync, long Runs, long Repairs, long DriftRepairs,
    DateTimeOffset? Last, IReadOnlyList<string> Errors);
