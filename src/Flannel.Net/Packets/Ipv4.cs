using System.Buffers.Binary;

namespace Flannel.Net.Packets;

/// <summary>Why an inner packet was refused.</summary>
public enum PacketError
{
    None,
    /// <summary>Shorter than its headers or its IPv4 total length.</summary>
    Truncated,
    /// <summary>IP version is not 4.</summary>
    NotIpv4,
    /// <summary>Bad header length, total length below the header, or a wrong header checksum.</summary>
    Malformed,
}

/// <summary>Field access and checks on an IPv4 header at the start of a span. Addresses are host-order uints.</summary>
public static class Ipv4
{
    public const byte ProtoIcmp = 1, ProtoTcp = 6, ProtoUdp = 17;
    public const int MinHeader = 20;

    public static int Version(ReadOnlySpan<byte> p) => p[0] >> 4;
    public static int HeaderLength(ReadOnlySpan<byte> p) => (p[0] & 0x0f) * 4;
    public static int TotalLength(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
    public static ushort Id(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
    public static ushort FragmentField(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[6..]);
    public static int FragmentOffset(ReadOnlySpan<byte> p) => FragmentField(p) & 0x1fff;
    public static bool MoreFragments(ReadOnlySpan<byte> p) => (FragmentField(p) & 0x2000) != 0;
    public static bool IsFragment(ReadOnlySpan<byte> p) => (FragmentField(p) & 0x3fff) != 0;
    public static byte Ttl(ReadOnlySpan<byte> p) => p[8];
    public static byte Protocol(ReadOnlySpan<byte> p) => p[9];
    public static uint Source(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt32BigEndian(p[12..]);
    public static uint Destination(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt32BigEndian(p[16..]);

    /// <summary>
    /// Checks that <paramref name="p"/> holds a well-formed IPv4 packet: version 4, header length 20..60 within the data,
    /// total length covering the header and not beyond the data, and a correct header checksum. Trailing bytes beyond
    /// the total length are allowed (the caller trims to <paramref name="totalLength"/>).
    /// </summary>
    public static PacketError Validate(ReadOnlySpan<byte> p, out int totalLength)
    {
        totalLength = 0;
        if (p.Length < 1) return PacketError.Truncated;
        if (Version(p) != 4) return PacketError.NotIpv4;
        if (p.Length < MinHeader) return PacketError.Truncated;
        int ihl = HeaderLength(p);
        if (ihl < MinHeader) return PacketError.Malformed;
        int tot = TotalLength(p);
        if (tot < ihl) return PacketError.Malformed;
        if (p.Length < ihl || p.Length < tot) return PacketError.Truncated;
        if (Checksum.Fold(Checksum.Sum(p[..ihl])) != 0xffff) return PacketError.Malformed;
        totalLength = tot;
        return PacketError.None;
    }

    /// <summary>
    /// Decrements the TTL and patches the header checksum incrementally (RFC 1624). Returns false, leaving the packet
    /// untouched, when the TTL would reach zero.
    /// </summary>
    public static bool DecrementTtl(Span<byte> p)
    {
        if (p[8] <= 1) return false;
        p[8]--;
        // TTL is the high byte of the word at offset 8: the word dropped by 0x0100, so HC' = ~(~HC + ~m + m') = HC + 0x0100 folded.
        uint sum = (uint)BinaryPrimitives.ReadUInt16BigEndian(p[10..]) + 0x0100;
        sum = (sum & 0xffff) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(p[10..], (ushort)sum);
        return true;
    }

    /// <summary>Recomputes the header checksum of the header at the start of <paramref name="p"/>.</summary>
    public static void UpdateHeaderChecksum(Span<byte> p)
    {
        int ihl = HeaderLength(p);
        p[10] = 0;
        p[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(p[10..], Checksum.Finish(Checksum.Sum(p[..ihl])));
    }
}
