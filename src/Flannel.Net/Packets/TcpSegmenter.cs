using System.Buffers.Binary;

namespace Flannel.Net.Packets;

/// <summary>
/// Splits a TCP/IPv4 super-packet (a TSO packet from the TUN) into MSS-sized packets laid out back to back, so the
/// output can go out as one UDP GSO message (all segments the same size except the last).
/// </summary>
public static class TcpSegmenter
{
    /// <summary>Checks the headers of a TSO super-packet; returns the IP and TCP header lengths or an error.</summary>
    public static PacketError Check(ReadOnlySpan<byte> packet, out int ipHeader, out int tcpHeader)
    {
        ipHeader = tcpHeader = 0;
        var err = Ipv4.Validate(packet, out int total);
        if (err != PacketError.None) return err;
        if (Ipv4.Protocol(packet) != Ipv4.ProtoTcp || Ipv4.IsFragment(packet)) return PacketError.Malformed;
        ipHeader = Ipv4.HeaderLength(packet);
        if (total < ipHeader + Tcp.MinHeader) return PacketError.Truncated;
        tcpHeader = Tcp.HeaderLength(packet[ipHeader..]);
        if (tcpHeader < Tcp.MinHeader) return PacketError.Malformed;
        if (total < ipHeader + tcpHeader) return PacketError.Truncated;
        return PacketError.None;
    }

    /// <summary>The space <see cref="Segment"/> needs for a packet of <paramref name="total"/> bytes.</summary>
    public static int OutputSize(int total, int headers, int mss)
    {
        int payload = total - headers;
        int count = Math.Max(1, (payload + mss - 1) / mss);
        return total + (count - 1) * headers;
    }

    /// <summary>
    /// Writes the segments of <paramref name="packet"/> (checked with <see cref="Check"/>, trimmed to its total length)
    /// into <paramref name="output"/>: per segment the copied headers with total length, id + i, sequence + i*mss, CWR
    /// only on the first, FIN/PSH only on the last, and full IP and TCP checksums. Returns the number of segments;
    /// <paramref name="segmentSize"/> is the size of every segment but the last.
    /// </summary>
    public static int Segment(ReadOnlySpan<byte> packet, int ipHeader, int tcpHeader, int mss, Span<byte> output, out int segmentSize)
    {
        if (mss <= 0) throw new ArgumentOutOfRangeException(nameof(mss), mss, "mss must be positive");
        int headers = ipHeader + tcpHeader;
        int payload = packet.Length - headers;
        int count = Math.Max(1, (payload + mss - 1) / mss);
        segmentSize = headers + Math.Min(mss, payload);
        ushort id0 = Ipv4.Id(packet);
        uint seq0 = Tcp.Sequence(packet[ipHeader..]);
        byte flags = Tcp.Flags(packet[ipHeader..]);
        int outOff = 0;
        for (int i = 0; i < count; i++)
        {
            int chunk = Math.Min(mss, payload - i * mss);
            if (chunk < 0) chunk = 0;
            var seg = output.Slice(outOff, headers + chunk);
            packet[..headers].CopyTo(seg);
            packet.Slice(headers + i * mss, chunk).CopyTo(seg[headers..]);
            BinaryPrimitives.WriteUInt16BigEndian(seg[2..], (ushort)seg.Length);
            BinaryPrimitives.WriteUInt16BigEndian(seg[4..], (ushort)(id0 + i));
            Ipv4.UpdateHeaderChecksum(seg);
            var tcp = seg[ipHeader..];
            BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq0 + (uint)(i * mss));
            byte f = flags;
            if (i > 0) f &= unchecked((byte)~Tcp.Cwr);
            if (i < count - 1) f &= unchecked((byte)~(Tcp.Fin | Tcp.Psh));
            tcp[13] = f;
            Tcp.UpdateChecksum(seg);
            outOff += seg.Length;
        }
        return count;
    }

    /// <summary>
    /// Completes a partial checksum (virtio NEEDS_CSUM): the field at start+offset holds the pseudo-header sum; sum
    /// from start to the end and store the complement there. Returns false when the offsets lie outside the packet.
    /// </summary>
    public static bool CompleteChecksum(Span<byte> packet, int start, int offset)
    {
        if (start < 0 || offset < 0 || start + offset + 2 > packet.Length) return false;
        var region = packet[start..];
        ushort c = Checksum.Finish(Checksum.Sum(region));
        // As the kernel does (CSUM_MANGLED_0): 0 means "no checksum" for UDP, and 0xffff is equivalent for TCP.
        BinaryPrimitives.WriteUInt16BigEndian(region[offset..], c == 0 ? (ushort)0xffff : c);
        return true;
    }
}
