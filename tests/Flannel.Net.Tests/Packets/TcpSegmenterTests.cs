using System.Buffers.Binary;
using CsCheck;
using Flannel.Net.Packets;
using PacketDotNet;
using Xunit;

namespace Flannel.Net.Tests.Packets;

public class TcpSegmenterTests
{
    private static List<byte[]> Split(byte[] super, int mss)
    {
        Assert.Equal(PacketError.None, TcpSegmenter.Check(super, out int ih, out int th));
        var output = new byte[TcpSegmenter.OutputSize(super.Length, ih + th, mss)];
        int count = TcpSegmenter.Segment(super, ih, th, mss, output, out int segSize);
        var result = new List<byte[]>();
        int off = 0;
        for (int i = 0; i < count; i++)
        {
            int len = BinaryPrimitives.ReadUInt16BigEndian(output.AsSpan(off + 2));
            if (i < count - 1) Assert.Equal(segSize, len);
            result.Add(output[off..(off + len)]);
            off += len;
        }
        Assert.Equal(output.Length, off);
        return result;
    }

    [Fact]
    public void Segments_carry_the_payload_in_order_with_valid_checksums_ids_and_sequence_numbers()
    {
        var payload = TestPackets.Payload(10_000);
        var super = TestPackets.Tcp(1_000_000, payload, flags: Tcp.Ack | Tcp.Psh, id: 65530);
        var segs = Split(super, 1400);
        Assert.Equal(8, segs.Count);
        var joined = new List<byte>();
        for (int i = 0; i < segs.Count; i++)
        {
            var ip = TestPackets.Parse(segs[i]);
            var tcp = Assert.IsType<TcpPacket>(ip.PayloadPacket);
            Assert.True(ip.ValidIPChecksum);
            Assert.True(tcp.ValidTcpChecksum);
            Assert.Equal((ushort)(65530 + i), ip.Id);
            Assert.Equal(1_000_000u + (uint)(i * 1400), tcp.SequenceNumber);
            Assert.Equal(i == segs.Count - 1, tcp.Push);
            Assert.True(tcp.Acknowledgment);
            joined.AddRange(tcp.PayloadData);
        }
        Assert.Equal(10_000 - 7 * 1400, TestPackets.Parse(segs[^1]).PayloadPacket.PayloadData.Length);
        Assert.Equal(payload, joined.ToArray());
    }

    [Fact]
    public void Fin_only_on_the_last_and_cwr_only_on_the_first()
    {
        var super = TestPackets.Tcp(5, TestPackets.Payload(3000), flags: Tcp.Ack | Tcp.Fin | Tcp.Cwr);
        var segs = Split(super, 1000).Select(s => (TcpPacket)TestPackets.Parse(s).PayloadPacket).ToList();
        Assert.Equal([true, false, false], segs.Select(t => t.CongestionWindowReduced));
        Assert.Equal([false, false, true], segs.Select(t => t.Finished));
    }

    [Fact]
    public void Ip_and_tcp_options_are_copied_into_every_segment()
    {
        var ts = TestPackets.Timestamps(99);
        var super = TestPackets.Tcp(7, TestPackets.Payload(4000), ipOptions: TestPackets.RouterAlert, tcpOptions: ts);
        foreach (var s in Split(super, 1388))
        {
            var ip = TestPackets.Parse(s);
            Assert.Equal(24, ip.HeaderLength * 4);
            Assert.True(ip.ValidIPChecksum);
            var tcp = (TcpPacket)ip.PayloadPacket;
            Assert.True(tcp.ValidTcpChecksum);
            Assert.Equal(ts, tcp.Options);
            Assert.True(s.Length <= 24 + 32 + 1388);
        }
    }

    [Fact]
    public void Exact_multiple_of_mss_and_shorter_than_mss()
    {
        Assert.Equal(3, Split(TestPackets.Tcp(1, TestPackets.Payload(3000)), 1000).Count);
        var one = Split(TestPackets.Tcp(1, TestPackets.Payload(500)), 1000);
        Assert.Single(one);
        Assert.True(((TcpPacket)TestPackets.Parse(one[0]).PayloadPacket).ValidTcpChecksum);
    }

    [Fact]
    public void Any_payload_and_mss_round_trips()
    {
        Gen.Select(Gen.Int[1, 20_000], Gen.Int[1, 1460], Gen.UInt).Sample((len, mss, seq) =>
        {
            var payload = TestPackets.Payload(len, len);
            var segs = Split(TestPackets.Tcp(seq, payload), mss);
            var joined = segs.SelectMany(s => s[40..]).ToArray();
            Assert.Equal(payload, joined);
            Assert.All(segs, s => Assert.True(((TcpPacket)TestPackets.Parse(s).PayloadPacket).ValidTcpChecksum));
        }, iter: 200);
    }

    [Fact]
    public void Check_refuses_non_tcp_fragments_and_broken_headers()
    {
        Assert.Equal(PacketError.Malformed, TcpSegmenter.Check(TestPackets.Udp(new byte[10]), out _, out _));
        Assert.Equal(PacketError.Malformed, TcpSegmenter.Check(TestPackets.Tcp(1, new byte[10], fragment: 0x2000), out _, out _));
        var badOffset = TestPackets.Tcp(1, new byte[10]);
        badOffset[32] = 0x40; // data offset 16 bytes
        Assert.Equal(PacketError.Malformed, TcpSegmenter.Check(badOffset, out _, out _));
    }

    [Fact]
    public void Completing_a_partial_checksum_gives_a_valid_udp_and_tcp_packet()
    {
        foreach (var (p, csumOffset) in new[] { (TestPackets.Udp(TestPackets.Payload(301)), 6), (TestPackets.Tcp(3, TestPackets.Payload(77)), 16) })
        {
            // What the kernel hands over with NEEDS_CSUM: the pseudo-header sum in the checksum field.
            int l4 = p.Length - 20;
            ushort pseudo = Checksum.Fold(Checksum.PseudoHeader(Ipv4.Source(p), Ipv4.Destination(p), p[9], l4));
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20 + csumOffset), pseudo);
            Assert.True(TcpSegmenter.CompleteChecksum(p, 20, csumOffset));
            Assert.True(((TransportPacket)TestPackets.Parse(p).PayloadPacket).IsValidChecksum(TransportPacket.TransportChecksumOption.IncludePseudoIPHeader));
        }
        Assert.False(TcpSegmenter.CompleteChecksum(new byte[30], 20, 16));
    }
}
