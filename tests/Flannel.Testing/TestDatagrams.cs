using System.Buffers.Binary;
using System.Net;

namespace Flannel.Testing;

/// <summary>Inner packets as a peer's tunnel would carry them, for tests that talk to a udp tunnel port directly.</summary>
public static class TestDatagrams
{
    /// <summary>An IPv4/UDP packet with a valid header checksum and no UDP checksum (0: allowed for IPv4).</summary>
    public static byte[] Ipv4Udp(string src, string dst, ushort srcPort, ushort dstPort, ReadOnlySpan<byte> payload)
    {
        var p = new byte[28 + payload.Length];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        p[8] = 64;
        p[9] = 17;
        IPAddress.Parse(src).GetAddressBytes().CopyTo(p, 12);
        IPAddress.Parse(dst).GetAddressBytes().CopyTo(p, 16);
        uint sum = 0;
        for (int i = 0; i < 20; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(i));
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), (ushort)~sum);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(24), (ushort)(8 + payload.Length));
        payload.CopyTo(p.AsSpan(28));
        return p;
    }
}
