using System.Buffers.Binary;

namespace Flannel.Net.Packets;

/// <summary>UDP header fields at the start of a span, and the checksum of a UDP/IPv4 packet.</summary>
public static class Udp
{
    public const int Header = 8;
    public const int LengthOffset = 4;
    public const int ChecksumOffset = 6;

    public static ushort Length(ReadOnlySpan<byte> u) => BinaryPrimitives.ReadUInt16BigEndian(u[LengthOffset..]);
    public static ushort ChecksumField(ReadOnlySpan<byte> u) => BinaryPrimitives.ReadUInt16BigEndian(u[ChecksumOffset..]);

    /// <summary>
    /// Verifies the UDP checksum of the IPv4 packet <paramref name="ip"/> (trimmed to its total length). A zero field
    /// (no checksum) does not count as valid: the caller cannot vouch for the data.
    /// </summary>
    public static bool ChecksumValid(ReadOnlySpan<byte> ip)
    {
        int ihl = Ipv4.HeaderLength(ip);
        var seg = ip[ihl..];
        if (seg.Length < Header || ChecksumField(seg) == 0) return false;
        uint sum = Checksum.PseudoHeader(Ipv4.Source(ip), Ipv4.Destination(ip), Ipv4.ProtoUdp, seg.Length);
        return Checksum.Fold(Checksum.Sum(seg, sum)) == 0xffff;
    }
}
