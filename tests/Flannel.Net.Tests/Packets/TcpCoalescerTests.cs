using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Flannel.Net.Native;
using Flannel.Net.Packets;
using PacketDotNet;
using Xunit;

namespace Flannel.Net.Tests.Packets;

public unsafe class TcpCoalescerTests : IDisposable
{
    private sealed class Collector : ITunWriter
    {
        public readonly List<(VirtioNetHdr Hdr, byte[] Bytes, int Packets)> Writes = new();

        public bool Write(in VirtioNetHdr hdr, IoVec* pieces, int count, int packets, int bytes)
        {
            var all = new List<byte>();
            for (int i = 1; i < count; i++) all.AddRange(new ReadOnlySpan<byte>(pieces[i].Base, (int)pieces[i].Length).ToArray());
            Writes.Add((hdr, all.ToArray(), packets));
            return true;
        }
    }

    private readonly List<nint> _buffers = new();
    private readonly Collector _out = new();
    private readonly TcpCoalescer _c;

    public TcpCoalescerTests() => _c = new TcpCoalescer(_out);

    private void Add(byte[] packet)
    {
        var p = (byte*)NativeMemory.Alloc((nuint)packet.Length);
        _buffers.Add((nint)p);
        packet.CopyTo(new Span<byte>(p, packet.Length));
        _c.Add(p, packet.Length);
    }

    private static List<byte[]> Flow(int segments, int mss, uint seq0 = 1000, byte lastFlags = Tcp.Ack, int lastLength = -1,
        ushort sport = 40000, byte[]? tcpOptions = null)
    {
        var list = new List<byte[]>();
        uint seq = seq0;
        for (int i = 0; i < segments; i++)
        {
            bool last = i == segments - 1;
            int len = last && lastLength >= 0 ? lastLength : mss;
            list.Add(TestPackets.Tcp(seq, TestPackets.Payload(len, i + sport), flags: last ? lastFlags : Tcp.Ack, id: (ushort)i,
                sport: sport, tcpOptions: tcpOptions));
            seq += (uint)len;
        }
        return list;
    }

    /// <summary>Checks a GSO write against the segments it replaced and returns its payload.</summary>
    private static void AssertSuperPacket((VirtioNetHdr Hdr, byte[] Bytes, int Packets) w, List<byte[]> segments, int mss)
    {
        Assert.Equal(VirtioNetHdr.FlagNeedsCsum, w.Hdr.Flags);
        Assert.Equal(VirtioNetHdr.GsoTcpV4, w.Hdr.GsoType);
        Assert.Equal(mss, w.Hdr.GsoSize);
        Assert.Equal(20, w.Hdr.CsumStart);
        Assert.Equal(16, w.Hdr.CsumOffset);
        Assert.Equal(segments.Count, w.Packets);
        var ip = TestPackets.Parse(w.Bytes);
        Assert.True(ip.ValidIPChecksum);
        Assert.Equal(w.Bytes.Length, ip.TotalLength);
        int thl = ((TcpPacket)TestPackets.Parse(segments[0]).PayloadPacket).DataOffset * 4;
        Assert.Equal(20 + thl, w.Hdr.HdrLen);
        var payload = segments.SelectMany(s => s[(20 + thl)..]).ToArray();
        Assert.Equal(payload, w.Bytes[(20 + thl)..]);
        // The checksum field holds the folded pseudo-header sum; completing it must give PacketDotNet's checksum.
        var copy = (byte[])w.Bytes.Clone();
        Assert.True(TcpSegmenter.CompleteChecksum(copy, 20, 16));
        Assert.True(((TcpPacket)TestPackets.Parse(copy).PayloadPacket).ValidTcpChecksum);
    }

    [Fact]
    public void Consecutive_full_segments_become_one_gso_write_with_the_last_flags()
    {
        var segs = Flow(10, 1400, lastFlags: Tcp.Ack | Tcp.Psh, lastLength: 300);
        segs.ForEach(Add);
        _c.Flush();
        var w = Assert.Single(_out.Writes);
        AssertSuperPacket(w, segs, 1400);
        Assert.True(((TcpPacket)TestPackets.Parse(w.Bytes).PayloadPacket).Push);
    }

    [Fact]
    public void Psh_flushes_at_once_and_the_next_segment_starts_a_new_packet()
    {
        var first = Flow(3, 1000, lastFlags: Tcp.Ack | Tcp.Psh);
        var second = Flow(2, 1000, seq0: 1000 + 3000);
        first.ForEach(Add);
        Assert.Single(_out.Writes);
        second.ForEach(Add);
        _c.Flush();
        Assert.Equal(2, _out.Writes.Count);
        AssertSuperPacket(_out.Writes[1], second, 1000);
    }

    [Fact]
    public void Fin_on_the_last_segment_is_carried()
    {
        var segs = Flow(4, 1000, lastFlags: Tcp.Ack | Tcp.Fin, lastLength: 10);
        segs.ForEach(Add);
        _c.Flush();
        var w = Assert.Single(_out.Writes);
        AssertSuperPacket(w, segs, 1000);
        Assert.True(((TcpPacket)TestPackets.Parse(w.Bytes).PayloadPacket).Finished);
    }

    [Fact]
    public void A_short_segment_closes_the_packet()
    {
        var segs = Flow(3, 1000, lastLength: 500);
        var next = TestPackets.Tcp(1000 + 2500, TestPackets.Payload(1000));
        segs.ForEach(Add);
        Add(next);
        _c.Flush();
        Assert.Equal(2, _out.Writes.Count);
        AssertSuperPacket(_out.Writes[0], segs, 1000);
        Assert.Equal(next, _out.Writes[1].Bytes);
        Assert.Equal(VirtioNetHdr.FlagDataValid, _out.Writes[1].Hdr.Flags);
    }

    [Fact]
    public void Two_interleaved_flows_are_coalesced_separately()
    {
        var a = Flow(5, 1000, sport: 1111);
        var b = Flow(5, 1000, sport: 2222);
        for (int i = 0; i < 5; i++) { Add(a[i]); Add(b[i]); }
        _c.Flush();
        Assert.Equal(2, _out.Writes.Count);
        AssertSuperPacket(_out.Writes[0], a, 1000);
        AssertSuperPacket(_out.Writes[1], b, 1000);
    }

    [Fact]
    public void Segment_with_a_wrong_checksum_passes_through_unvalidated_and_breaks_the_chain()
    {
        var segs = Flow(4, 1000);
        segs[2][^1] ^= 0xff;
        segs.ForEach(Add);
        _c.Flush();
        Assert.Equal(3, _out.Writes.Count);
        AssertSuperPacket(_out.Writes[0], segs[..2], 1000);
        Assert.Equal(0, _out.Writes[1].Hdr.Flags);
        Assert.Equal(segs[2], _out.Writes[1].Bytes);
        Assert.Equal(segs[3], _out.Writes[2].Bytes);
    }

    [Fact]
    public void Sequence_gap_changed_options_ip_options_and_fragments_are_not_merged()
    {
        var seg1 = TestPackets.Tcp(1000, TestPackets.Payload(1000));
        var gap = TestPackets.Tcp(2001, TestPackets.Payload(1000));
        Add(seg1);
        Add(gap);
        _c.Flush();
        Assert.Equal([seg1, gap], _out.Writes.Select(w => w.Bytes));
        _out.Writes.Clear();

        var ts1 = TestPackets.Tcp(1000, TestPackets.Payload(1000), tcpOptions: TestPackets.Timestamps(1));
        var ts2 = TestPackets.Tcp(2000, TestPackets.Payload(1000), tcpOptions: TestPackets.Timestamps(2));
        Add(ts1);
        Add(ts2);
        _c.Flush();
        Assert.Equal(2, _out.Writes.Count);
        _out.Writes.Clear();

        var withIpOptions = Enumerable.Range(0, 3).Select(i => TestPackets.Tcp(1000 + (uint)i * 1000, TestPackets.Payload(1000), ipOptions: TestPackets.RouterAlert)).ToList();
        withIpOptions.ForEach(Add);
        _c.Flush();
        Assert.Equal(withIpOptions, _out.Writes.Select(w => w.Bytes));
        _out.Writes.Clear();

        var fragment = TestPackets.Tcp(1000, TestPackets.Payload(1000), fragment: 0x2000);
        Add(fragment);
        _c.Flush();
        Assert.Equal(0, Assert.Single(_out.Writes).Hdr.GsoType);
    }

    [Fact]
    public void Same_timestamps_are_merged_and_options_kept()
    {
        var segs = Flow(3, 1000, tcpOptions: TestPackets.Timestamps(42));
        segs.ForEach(Add);
        _c.Flush();
        AssertSuperPacket(Assert.Single(_out.Writes), segs, 1000);
    }

    [Fact]
    public void Pure_acks_and_udp_are_written_immediately_after_their_flow()
    {
        var segs = Flow(2, 1000);
        var ack = TestPackets.Tcp(3000, ReadOnlySpan<byte>.Empty);
        var udp = TestPackets.Udp(TestPackets.Payload(100));
        Add(segs[0]);
        Add(segs[1]);
        Add(udp);
        Assert.Equal(udp, Assert.Single(_out.Writes).Bytes);
        Add(ack);
        Assert.Equal(3, _out.Writes.Count);
        AssertSuperPacket(_out.Writes[1], segs, 1000);
        Assert.Equal(ack, _out.Writes[2].Bytes);
    }

    [Fact]
    public void Never_more_than_64_kilobytes()
    {
        var segs = Flow(60, 1400);
        segs.ForEach(Add);
        _c.Flush();
        Assert.True(_out.Writes.Count >= 2);
        Assert.All(_out.Writes, w => Assert.True(w.Bytes.Length <= 65535));
        Assert.Equal(60, _out.Writes.Sum(w => w.Packets));
        var payload = segs.SelectMany(s => s[40..]).ToArray();
        Assert.Equal(payload, _out.Writes.SelectMany(w => w.Bytes[40..]).ToArray());
    }

    [Fact]
    public void Syn_and_rst_segments_are_not_coalesced()
    {
        var syn = TestPackets.Tcp(1, TestPackets.Payload(10), flags: Tcp.Syn);
        var rst = TestPackets.Tcp(11, TestPackets.Payload(10), flags: Tcp.Rst | Tcp.Ack);
        Add(syn);
        Add(rst);
        _c.Flush();
        Assert.Equal([syn, rst], _out.Writes.Select(w => w.Bytes));
        Assert.All(_out.Writes, w => Assert.Equal(0, w.Hdr.GsoType));
    }

    public void Dispose()
    {
        _c.Dispose();
        foreach (var p in _buffers) NativeMemory.Free((void*)p);
    }
}
