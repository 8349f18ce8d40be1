using System.Buffers.Binary;

namespace Flannel.Net.Packets;

/// <summary>TCP header fields at the start of a span.</summary>
public static class Tcp
{
    public const byte Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10, Urg = 0x20, Ece = 0x40, Cwr = 0x80;
    public const int MinHeader = 20;
    public const int ChecksumOffset = 16;

    public static ushort SourcePort(ReadOnlySpan<byte> t) => BinaryPrimitives.ReadUInt16BigEndian(t);
    public static ushort DestinationPort(ReadOnlySpan<byte> t) => BinaryPrimitives.ReadUInt16BigEndian(t[2..]);
    public static uint Sequence(ReadOnlySpan<byte> t) => BinaryPrimitives.ReadUInt32BigEndian(t[4..]);
    public static uint AckNumber(ReadOnlySpan<byte> t) => BinaryPrimitives.ReadUInt32BigEndian(t[8..]);
    public static int HeaderLength(ReadOnlySpan<byte> t) => (t[12] >> 4) * 4;
    public static byte Flags(ReadOnlySpan<byte> t) => t[13];

    /// <summary>Verifies the TCP checksum of the IPv4 packet <paramref name="ip"/> (trimmed to its total length).</summary>
    public static bool ChecksumValid(ReadOnlySpan<byte> ip)
    {
        int ihl = Ipv4.HeaderLength(ip);
        var seg = ip[ihl..];
        uint sum = Checksum.PseudoHeader(Ipv4.Source(ip), Ipv4.Destination(ip), Ipv4.ProtoTcp, seg.Length);
        return Checksum.Fold(Checksum.Sum(seg, sum)) == 0xffff;
    }

    /// <summary>Computes and stores the full TCP checksum of the IPv4 packet <paramref name="ip"/>.</summary>
    public static void UpdateChecksum(Span<byte> ip)
    {
        int ihl = Ipv4.HeaderLength(ip);
        var seg = ip[ihl..];
        seg[ChecksumOffset] = 0;
        seg[ChecksumOffset + 1] = 0;
        uint sum = Checksum.PseudoHeader(Ipv4.Source(ip), Ipv4.Destination(ip), Ipv4.ProtoTcp, seg.Length);
        BinaryPrimitives.WriteUInt16BigEndian(seg[ChecksumOffset..], Checksum.Finish(Checksum.Sum(seg, sum)));
    }
}
