namespace Flannel.Net.Bpf;

/// <summary>
/// The BPF path's per-CPU counters, in the order of the enum in udp_encap.bpf.c (keep them in sync). Fallback = passed on
/// to the user-space path (TUN on egress, the socket on ingress), which may count it again under its own reason; drop =
/// refused by the BPF program itself.
/// </summary>
public enum BpfCounter
{
    TxPackets, TxBytes, RxPackets, RxBytes,
    FallbackNoPeer, FallbackTtl, FallbackFragment, FallbackOptions, FallbackNotIpv4, FallbackPeerSocket, FallbackError,
    PassStranger, PassMalformed, PassFragment, PassError,
    DropForeignSource, DropForeignDestination, PassDatagramBatch, FallbackGso,
}

/// <summary>Summed over CPUs at read time (never counted per packet in user space).</summary>
public sealed record BpfCounters(IReadOnlyDictionary<BpfCounter, long> Values)
{
    public long this[BpfCounter c] => Values.TryGetValue(c, out var v) ? v : 0;

    /// <summary>Reason label (snake_case, as the TUN counters' reasons) and direction of every fallback/drop counter.</summary>
    public static (string Direction, string Kind, string Reason)? Describe(BpfCounter c) => c switch
    {
        BpfCounter.FallbackNoPeer => ("tx", "fallback", "no_peer"),
        BpfCounter.FallbackTtl => ("tx", "fallback", "ttl"),
        BpfCounter.FallbackFragment => ("tx", "fallback", "fragment"),
        BpfCounter.FallbackOptions => ("tx", "fallback", "ip_options"),
        BpfCounter.FallbackNotIpv4 => ("tx", "fallback", "not_ipv4"),
        BpfCounter.FallbackPeerSocket => ("tx", "fallback", "peer_socket_receiver"),
        BpfCounter.FallbackError => ("tx", "fallback", "helper_error"),
        BpfCounter.PassStranger => ("rx", "fallback", "stranger"),
        BpfCounter.PassMalformed => ("rx", "fallback", "malformed"),
        BpfCounter.PassFragment => ("rx", "fallback", "fragment"),
        BpfCounter.PassError => ("rx", "fallback", "helper_error"),
        BpfCounter.FallbackGso => ("tx", "fallback", "gso"),
        BpfCounter.PassDatagramBatch => ("rx", "fallback", "datagram_batch"),
        BpfCounter.DropForeignSource => ("rx", "drop", "foreign_source"),
        BpfCounter.DropForeignDestination => ("rx", "drop", "foreign_destination"),
        _ => null,
    };
}
