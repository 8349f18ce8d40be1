namespace Flannel.Net.Tunnel;

/// <summary>Counters written by exactly one worker thread and read by snapshots (64-bit reads are atomic on x64/arm64).</summary>
internal sealed class WorkerCounters
{
    public static readonly int ReasonCount = Enum.GetValues<DropReason>().Length;

    public long Packets;
    public long Bytes;

    /// <summary>GSO super-packets written to the TUN and the inner packets they carried (inbound pump only).</summary>
    public long TcpSuperPackets, TcpCoalescedSegments, UdpSuperPackets, UdpCoalescedSegments;

    /// <summary>Times the kernel refused a UDP GSO write (at most once per queue: it falls back to single writes).</summary>
    public long UdpGsoRefused;
    public readonly long[] Drops = new long[ReasonCount];

    public void Drop(DropReason reason, long count = 1) => Drops[(int)reason] += count;
}
