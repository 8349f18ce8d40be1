using System.Buffers.Binary;

namespace Flannel.Net.Packets;

/// <summary>
/// ICMP destination unreachable / net unreachable (type 3, code 0), as flannel's udp proxy sends for a destination no
/// peer owns: from the TUN address to the offender's source, quoting its IP header and the first 8 payload bytes.
/// </summary>
public static class IcmpUnreachable
{
    public const int MaxLength = 20 + 8 + 60 + 8;
    private const byte Ttl = 64;

    /// <summary>Never answer an ICMP packet or a non-first fragment (RFC 1122; flannel does the same).</summary>
    public static bool ShouldSend(ReadOnlySpan<byte> offender) =>
        Ipv4.Protocol(offender) != Ipv4.ProtoIcmp && Ipv4.FragmentOffset(offender) == 0;

    /// <summary>Writes the ICMP packet into <paramref name="dest"/> (at least <see cref="MaxLength"/> bytes); returns its length.</summary>
    public static int Write(Span<byte> dest, ReadOnlySpan<byte> offender, uint source)
    {
        int quoted = Math.Min(offender.Length, Ipv4.HeaderLength(offender) + 8);
        int total = 20 + 8 + quoted;
        var p = dest[..total];
        p.Clear();
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(p[4..], Ipv4.Id(offender));
        p[8] = Ttl;
        p[9] = Ipv4.ProtoIcmp;
        BinaryPrimitives.WriteUInt32BigEndian(p[12..], source);
        BinaryPrimitives.WriteUInt32BigEndian(p[16..], Ipv4.Source(offender));
        Ipv4.UpdateHeaderChecksum(p);
        var icmp = p[20..];
        icmp[0] = 3;
        icmp[1] = 0;
        offender[..quoted].CopyTo(icmp[8..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum.Finish(Checksum.Sum(icmp)));
        return total;
    }
}
