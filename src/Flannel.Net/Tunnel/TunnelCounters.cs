using System.Net;

namespace Flannel.Net.Tunnel;

/// <summary>Why the tunnel dropped a packet or datagram.</summary>
public enum DropReason
{
    /// <summary>Inner destination owned by no peer (an ICMP net-unreachable went back when allowed).</summary>
    NoRoute,
    /// <summary>Datagram from an address that is not a known peer.</summary>
    Stranger,
    /// <summary>Shorter than its IPv4 header or total length.</summary>
    Truncated,
    /// <summary>Not IPv4 (e.g. IPv6 on the TUN).</summary>
    NotIpv4,
    /// <summary>Bad IPv4 header (length fields, checksum) or an unusable offload header.</summary>
    Malformed,
    /// <summary>Inner source outside the sending peer's subnets (with CheckInnerAddresses, the default).</summary>
    ForeignSource,
    /// <summary>Inner destination outside this node's lease, or the lease not known yet (with CheckInnerAddresses).</summary>
    ForeignDestination,
    /// <summary>TTL would reach zero.</summary>
    TtlExpired,
    /// <summary>The kernel refused the UDP send (e.g. unreachable peer, buffer full).</summary>
    SendFailed,
    /// <summary>The kernel refused the TUN write (e.g. device down).</summary>
    TunWriteFailed,
}

/// <summary>Packets and bytes of inner IPv4 packets.</summary>
public readonly record struct TrafficCounters(long Packets, long Bytes);

/// <summary>
/// Receive-side coalescing: GSO super-packets written to the TUN and how many inner packets they carried, per
/// protocol, and how many queues saw the kernel refuse UDP GSO writes (they write datagrams singly since).
/// </summary>
public readonly record struct CoalescingCounters(
    long TcpSuperPackets, long TcpSegments, long UdpSuperPackets, long UdpSegments, long UdpGsoRefused);

/// <summary>Traffic exchanged with one peer (by public IP) since the tunnel started.</summary>
public sealed record PeerCounters(IPAddress PublicIp, TrafficCounters Sent, TrafficCounters Received);

/// <summary>A consistent-enough snapshot of the tunnel's counters (each value is read atomically; the set is not).</summary>
/// <param name="TxDrops">Dropped on the send side: packets read from the TUN device towards peers.</param>
/// <param name="RxDrops">Dropped on the receive side: datagrams received from the underlay. Several reasons (not IPv4,
/// truncated, malformed, TTL) happen on either side, so each side counts its own.</param>
public sealed record TunnelCounters(
    TrafficCounters TunToUdp,
    TrafficCounters UdpToTun,
    IReadOnlyDictionary<DropReason, long> TxDrops,
    IReadOnlyDictionary<DropReason, long> RxDrops,
    IReadOnlyList<PeerCounters> Peers,
    bool OffloadActive,
    int Queues)
{
    /// <summary>Both sides' drops added up per reason.</summary>
    public IReadOnlyDictionary<DropReason, long> Drops =>
        Enum.GetValues<DropReason>().ToDictionary(r => r, r => Count(TxDrops, r) + Count(RxDrops, r));

    private static long Count(IReadOnlyDictionary<DropReason, long> drops, DropReason reason) => drops.TryGetValue(reason, out var v) ? v : 0;

    /// <summary>Receive-side coalescing into GSO super-packets (zero without TUN offload).</summary>
    public CoalescingCounters Coalescing { get; init; }

    /// <summary>The TC-BPF path's counters when it runs in front of the tunnel (udp-datapath bpf), else null.</summary>
    public Flannel.Net.Bpf.BpfCounters? Bpf { get; init; }

    public long TotalDrops => TxDrops.Values.Sum() + RxDrops.Values.Sum();

    /// <summary>Drops for <paramref name="reason"/>, both sides.</summary>
    public long Dropped(DropReason reason) => Count(TxDrops, reason) + Count(RxDrops, reason);
}
