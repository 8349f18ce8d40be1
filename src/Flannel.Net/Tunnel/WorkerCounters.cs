namespace Flannel.Net.Tunnel;

/// <summary>Counters written by exactly one worker thread and read by snapshots (64-bit reads are atomic on x64/arm64).</summary>
internal sealed class WorkerCounters
{
    public static readonly int ReasonCount = Enum.GetValues<DropReason>().Length;

    public long Packets;
    public long Bytes;
    public readonly long[] Drops = new long[ReasonCount];

    public void Drop(DropReason reason, long count = 1) => Drops[(int)reason] += count;
}
