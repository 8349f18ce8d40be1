using Flannel.Net.Backends;
using Flannel.Net.Tunnel;

namespace Flannel.Actors.Cmd;

/// <summary>
/// Builds the palettes' views from the data path's own types (backend Inspect, UDP tunnel counters), so the agent
/// wires <see cref="CmdContext"/> with one line per source. Pure functions; the agent decides on which thread
/// Inspect runs (it shares the backend's netlink socket with the reconcile loop).
/// </summary>
public static class CmdSources
{
    /// <param name="foreign">Subnets programmed from Kubernetes annotations (their rows say so).</param>
    public static RoutesView ToRoutesView(string backendType, IEnumerable<PeerRouteStatus> statuses,
        IReadOnlyDictionary<System.Net.IPNetwork, string>? foreign = null) =>
        new(backendType, statuses
            .OrderBy(s => s.Subnet.BaseAddress.GetAddressBytes(), ByteComparer.Instance)
            .Select(s => new RouteRow(
                s.Subnet.ToString(),
                s.PublicIp.ToString(),
                s.State switch
                {
                    PeerRouteState.InSync => RouteRow.InSync,
                    PeerRouteState.Drift => RouteRow.Drifted,
                    _ => RouteRow.Ignored,
                },
                s.Desired,
                s.Actual ?? "(missing)",
                s.Drift,
                foreign?.ContainsKey(s.Subnet) == true ? LeaseRow.KubeSource : LeaseRow.LeaseSource))
            .ToList());

    /// <summary>
    /// One row per peer lease. UDP: counters from <paramref name="tunnel"/> matched by public IP (drops are tunnel-wide,
    /// so they go to <see cref="PeersView.Drops"/>). Other backends: FDB/neighbour state from <paramref name="statuses"/>.
    /// </summary>
    public static PeersView ToPeersView(
        string backendType, IEnumerable<PeerLease> peers, TunnelCounters? tunnel, IEnumerable<PeerRouteStatus>? statuses = null)
    {
        var byIp = tunnel?.Peers.ToDictionary(p => p.PublicIp) ?? [];
        var status = statuses?.ToDictionary(s => s.Subnet) ?? [];
        var rows = peers
            .OrderBy(p => p.Subnet.BaseAddress.GetAddressBytes(), ByteComparer.Instance)
            .Select(p =>
            {
                byIp.TryGetValue(p.PublicIp, out var c);
                status.TryGetValue(p.Subnet, out var s);
                var udp = backendType == "udp";
                return new PeerRow(p.Subnet.ToString(), p.PublicIp.ToString(), p.BackendType,
                    c?.Sent.Packets ?? 0, c?.Sent.Bytes ?? 0, c?.Received.Packets ?? 0, c?.Received.Bytes ?? 0, [],
                    Fdb: udp ? null : Describe(s, "fdb"),
                    Neighbour: udp ? null : Describe(s, "neigh"));
            })
            .ToList();
        return new PeersView(backendType, rows, tunnel is null ? [] : Drops(tunnel),
            tunnel is null ? null : new TunnelTotals(tunnel.TunToUdp.Packets, tunnel.TunToUdp.Bytes, tunnel.UdpToTun.Packets, tunnel.UdpToTun.Bytes)
            {
                Coalescing = tunnel.Coalescing,
                Bpf = tunnel.Bpf is { } b
                    ? new BpfTotals(b[Flannel.Net.Bpf.BpfCounter.TxPackets], b[Flannel.Net.Bpf.BpfCounter.TxBytes],
                        b[Flannel.Net.Bpf.BpfCounter.RxPackets], b[Flannel.Net.Bpf.BpfCounter.RxBytes])
                    : null,
            });
    }

    /// <summary>Tunnel drops by direction and reason (reasons named in snake_case, as in metrics labels). tx: packets read
    /// from the TUN device towards peers; rx: datagrams received from peers. Each side counts its own.</summary>
    public static IReadOnlyList<DropCount> Drops(TunnelCounters tunnel) =>
        [.. Side("tx", tunnel.TxDrops), .. Side("rx", tunnel.RxDrops), .. BpfCounts(tunnel.Bpf)];

    private static IEnumerable<DropCount> Side(string direction, IReadOnlyDictionary<DropReason, long> drops) =>
        drops.Where(d => d.Value > 0).OrderBy(d => d.Key).Select(d => new DropCount(direction, Reason(d.Key), d.Value));

    /// <summary>
    /// The TC-BPF path's counters as drop rows with reasons <c>bpf_fallback_*</c> (handed to the user-space path, which
    /// may count them again) and <c>bpf_drop_*</c> (refused in the kernel); what it carried is in <see cref="TunnelTotals"/>.
    /// </summary>
    private static IEnumerable<DropCount> BpfCounts(Flannel.Net.Bpf.BpfCounters? bpf)
    {
        if (bpf is null) yield break;
        foreach (var (counter, value) in bpf.Values.OrderBy(v => v.Key))
            if (value > 0 && Flannel.Net.Bpf.BpfCounters.Describe(counter) is { } d)
                yield return new DropCount(d.Direction, $"bpf_{d.Kind}_{d.Reason}", value);
    }

    public static string Reason(DropReason reason) => reason switch
    {
        DropReason.NoRoute => "no_route",
        DropReason.Stranger => "stranger",
        DropReason.Truncated => "truncated",
        DropReason.NotIpv4 => "not_ipv4",
        DropReason.Malformed => "malformed",
        DropReason.ForeignSource => "foreign_source",
        DropReason.ForeignDestination => "foreign_destination",
        DropReason.TtlExpired => "ttl_expired",
        DropReason.SendFailed => "send_failed",
        DropReason.TunWriteFailed => "tun_write_failed",
        _ => reason.ToString().ToLowerInvariant(),
    };

    private static string Describe(PeerRouteStatus? status, string keyword)
    {
        if (status is null) return "unknown";
        if (status.State == PeerRouteState.Ignored) return "not programmed";
        var drift = status.Drift.Where(d => d.Contains(keyword, StringComparison.OrdinalIgnoreCase)).ToList();
        return drift.Count > 0 ? string.Join("; ", drift) : "ok";
    }

    private sealed class ByteComparer : IComparer<byte[]>
    {
        public static readonly ByteComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
