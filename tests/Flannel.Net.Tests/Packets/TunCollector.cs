using Flannel.Net.Native;
using Flannel.Net.Packets;

namespace Flannel.Net.Tests.Packets;

/// <summary>An <see cref="ITunWriter"/> that records every write (virtio header + concatenated pieces).</summary>
internal sealed unsafe class TunCollector : ITunWriter
{
    public sealed record Written(VirtioNetHdr Hdr, byte[] Bytes, int Packets, int InnerBytes);

    public readonly List<Written> Writes = new();

    /// <summary>Acts like a kernel without UDP_L4 in virtio_net_hdr: UDP GSO writes are refused (and not recorded).</summary>
    public bool RefuseUdpGso { get; init; }

    public int Refused { get; private set; }

    public bool Write(in VirtioNetHdr hdr, IoVec* pieces, int count, int packets, int bytes)
    {
        if (RefuseUdpGso && hdr.GsoType == VirtioNetHdr.GsoUdpL4)
        {
            Refused++;
            return false;
        }
        var all = new List<byte>();
        for (int i = 1; i < count; i++) all.AddRange(new ReadOnlySpan<byte>(pieces[i].Base, (int)pieces[i].Length).ToArray());
        Writes.Add(new Written(hdr, all.ToArray(), packets, bytes));
        return true;
    }
}
