using System.Buffers.Binary;
using System.Net;
using PacketDotNet;
using PacketDotNet.Utils;

namespace Flannel.Net.Tests.Packets;

/// <summary>
/// Builds IPv4 packets byte by byte (independent of the product code) and lets PacketDotNet compute the checksums.
/// </summary>
internal static class TestPackets
{
    public static readonly IPAddress A = IPAddress.Parse("10.1.1.2");
    public static readonly IPAddress B = IPAddress.Parse("10.1.2.3");

    /// <summary>A packet of <paramref name="length"/> bytes with its IPv4 header (and options) written; checksum left 0.</summary>
    private static byte[] Ipv4Header(int length, byte protocol, ushort id, byte ttl, byte tos, ushort fragment, byte[] ipOptions,
        IPAddress? src, IPAddress? dst)
    {
        var b = new byte[length];
        b[0] = (byte)(0x40 | ((20 + ipOptions.Length) / 4));
        b[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)length);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), fragment);
        b[8] = ttl;
        b[9] = protocol;
        (src ?? A).GetAddressBytes().CopyTo(b, 12);
        (dst ?? B).GetAddressBytes().CopyTo(b, 16);
        ipOptions.CopyTo(b, 20);
        return b;
    }

    public static byte[] Tcp(uint seq, ReadOnlySpan<byte> payload, byte flags = 0x10, ushort id = 100, byte[]? ipOptions = null,
        byte[]? tcpOptions = null, ushort sport = 40000, ushort dport = 5201, uint ack = 777, byte ttl = 64, byte tos = 0,
        ushort fragment = 0x4000, IPAddress? src = null, IPAddress? dst = null)
    {
        ipOptions ??= [];
        tcpOptions ??= [];
        int ihl = 20 + ipOptions.Length, thl = 20 + tcpOptions.Length;
        var b = Ipv4Header(ihl + thl + payload.Length, 6, id, ttl, tos, fragment, ipOptions, src, dst);
        var t = b.AsSpan(ihl);
        BinaryPrimitives.WriteUInt16BigEndian(t, sport);
        BinaryPrimitives.WriteUInt16BigEndian(t[2..], dport);
        BinaryPrimitives.WriteUInt32BigEndian(t[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(t[8..], ack);
        t[12] = (byte)((thl / 4) << 4);
        t[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(t[14..], 502);
        tcpOptions.CopyTo(t[20..]);
        payload.CopyTo(t[thl..]);
        return FixChecksums(b);
    }

    public static byte[] Udp(ReadOnlySpan<byte> payload, IPAddress? src = null, IPAddress? dst = null)
    {
        var udp = new UdpPacket(5000, 53) { PayloadData = payload.ToArray() };
        var ip = new IPv4Packet(src ?? A, dst ?? B) { PayloadPacket = udp, TimeToLive = 64 };
        ip.UpdateCalculatedValues();
        udp.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        return ip.Bytes;
    }

    /// <summary>
    /// A UDP/IPv4 datagram built field by field; PacketDotNet computes the UDP checksum unless <paramref name="zeroChecksum"/>.
    /// <paramref name="padding"/> adds bytes inside the IP total length that the UDP length does not cover.
    /// </summary>
    public static byte[] UdpDatagram(ReadOnlySpan<byte> payload, ushort id = 100, byte ttl = 64, byte tos = 0,
        ushort fragment = 0x4000, byte[]? ipOptions = null, ushort sport = 40000, ushort dport = 5201, bool zeroChecksum = false,
        int padding = 0, IPAddress? src = null, IPAddress? dst = null)
    {
        ipOptions ??= [];
        int ihl = 20 + ipOptions.Length;
        var b = Ipv4Header(ihl + 8 + payload.Length + padding, 17, id, ttl, tos, fragment, ipOptions, src, dst);
        var u = b.AsSpan(ihl);
        BinaryPrimitives.WriteUInt16BigEndian(u, sport);
        BinaryPrimitives.WriteUInt16BigEndian(u[2..], dport);
        BinaryPrimitives.WriteUInt16BigEndian(u[4..], (ushort)(8 + payload.Length));
        payload.CopyTo(u[8..]);
        var ip = Parse(b);
        // A non-first fragment carries no UDP header for PacketDotNet: its bytes stay as built.
        if (!zeroChecksum && ip.PayloadPacket is UdpPacket udp) udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        var bytes = ip.Bytes;
        if (padding > 0)
        {
            // PacketDotNet stretches the UDP length over the padding: put it back and checksum what it covers.
            var udpPart = bytes.AsSpan(ihl);
            BinaryPrimitives.WriteUInt16BigEndian(udpPart[4..], (ushort)(8 + payload.Length));
            BinaryPrimitives.WriteUInt16BigEndian(udpPart[6..], 0);
            uint sum = 17u + (uint)(8 + payload.Length);
            var covered = bytes.AsSpan(12, 8).ToArray().Concat(udpPart[..(8 + payload.Length)].ToArray()).ToArray();
            for (int i = 0; i < covered.Length; i += 2) sum += (uint)(covered[i] << 8 | (i + 1 < covered.Length ? covered[i + 1] : 0));
            while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
            BinaryPrimitives.WriteUInt16BigEndian(udpPart[6..], (ushort)~sum == 0 ? (ushort)0xffff : (ushort)~sum);
        }
        return bytes;
    }

    public static byte[] IcmpEcho(IPAddress? src = null, IPAddress? dst = null)
    {
        var b = new byte[28 + 8];
        b[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)b.Length);
        b[8] = 64;
        b[9] = 1;
        (src ?? A).GetAddressBytes().CopyTo(b, 12);
        (dst ?? B).GetAddressBytes().CopyTo(b, 16);
        b[20] = 8;
        var ip = Parse(b);
        ((IcmpV4Packet)ip.PayloadPacket).UpdateIcmpChecksum();
        ip.UpdateIPChecksum();
        return ip.Bytes;
    }

    /// <summary>Recomputes IP and (for unfragmented TCP) TCP checksums with PacketDotNet.</summary>
    public static byte[] FixChecksums(byte[] b)
    {
        var ip = Parse(b);
        if (ip.PayloadPacket is TcpPacket tcp) tcp.UpdateTcpChecksum();
        ip.UpdateIPChecksum();
        return ip.Bytes;
    }

    public static IPv4Packet Parse(byte[] b) => new(new ByteArraySegment(b));

    public static byte[] Payload(int length, int seed = 1)
    {
        var p = new byte[length];
        new Random(seed).NextBytes(p);
        return p;
    }

    /// <summary>TCP timestamps option padded to 12 bytes (NOP NOP TS).</summary>
    public static byte[] Timestamps(uint tsval, uint tsecr = 5)
    {
        var o = new byte[12];
        o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(4), tsval);
        BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(8), tsecr);
        return o;
    }

    /// <summary>A 4-byte IP option: router alert.</summary>
    public static readonly byte[] RouterAlert = [0x94, 0x04, 0x00, 0x00];
}
