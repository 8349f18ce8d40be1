using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Flannel.Net.Packets;
using PacketDotNet;
using Xunit;

namespace Flannel.Net.Tests.Packets;

public unsafe class UdpCoalescerTests : IDisposable
{
    private readonly List<nint> _buffers = new();
    private TunCollector _out = new();
    private UdpCoalescer _c;

    public UdpCoalescerTests() => _c = new UdpCoalescer(_out);

    private void Add(byte[] packet)
    {
        var p = (byte*)NativeMemory.Alloc((nuint)packet.Length);
        _buffers.Add((nint)p);
        packet.CopyTo(new Span<byte>(p, packet.Length));
        _c.Add(p, packet.Length);
    }

    /// <summary>Datagrams of one flow with incrementing IP ids, like a connected Linux UDP socket sends them.</summary>
    private static List<byte[]> Flow(int count, int size, ushort id0 = 100, int lastLength = -1, ushort sport = 40000)
    {
        var list = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            int len = i == count - 1 && lastLength >= 0 ? lastLength : size;
            list.Add(TestPackets.UdpDatagram(TestPackets.Payload(len, sport * 1000 + i), id: (ushort)(id0 + i), sport: sport));
        }
        return list;
    }

    private static ushort Be(byte[] b, int at) => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(at));

    private static void SetBe(byte[] b, int at, int v) => BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(at), (ushort)v);

    private static uint OnesSum(ReadOnlySpan<byte> d)
    {
        uint s = 0;
        for (int i = 0; i + 1 < d.Length; i += 2) s += (uint)(d[i] << 8 | d[i + 1]);
        if ((d.Length & 1) != 0) s += (uint)d[^1] << 8;
        return s;
    }

    private static ushort Fold(uint s)
    {
        while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
        return (ushort)s;
    }

    /// <summary>
    /// Splits a UDP GSO write the way the receiving stack does (written here independently of the product code): each
    /// segment gets the head's headers, its own IP total length and id (first id + index), the IP header checksum,
    /// its UDP length, and its UDP checksum completed from the partial one (the super length swapped for its own).
    /// </summary>
    private static List<byte[]> Resegment(TunCollector.Written w)
    {
        var b = w.Bytes;
        int hl = w.Hdr.HdrLen, size = w.Hdr.GsoSize, csumAt = w.Hdr.CsumStart + w.Hdr.CsumOffset;
        ushort superUdpLength = Be(b, 24), partial = Be(b, csumAt), id0 = Be(b, 4);
        var list = new List<byte[]>();
        for (int off = hl, i = 0; off < b.Length; off += size, i++)
        {
            int len = Math.Min(size, b.Length - off);
            var d = new byte[hl + len];
            b.AsSpan(0, hl).CopyTo(d);
            b.AsSpan(off, len).CopyTo(d.AsSpan(hl));
            SetBe(d, 2, d.Length);
            SetBe(d, 4, id0 + i);
            SetBe(d, 10, 0);
            SetBe(d, 10, (ushort)~Fold(OnesSum(d.AsSpan(0, 20))));
            SetBe(d, 24, 8 + len);
            SetBe(d, csumAt, Fold(partial + (uint)(ushort)~superUdpLength + (uint)(8 + len)));
            ushort check = (ushort)~Fold(OnesSum(d.AsSpan(w.Hdr.CsumStart)));
            SetBe(d, csumAt, check == 0 ? 0xffff : check);
            list.Add(d);
        }
        return list;
    }

    /// <summary>Checks a UDP GSO write against the datagrams it replaced, byte for byte after re-segmentation.</summary>
    private static void AssertSuperPacket(TunCollector.Written w, List<byte[]> datagrams)
    {
        int size = datagrams[0].Length - 28;
        Assert.Equal(VirtioNetHdr.FlagNeedsCsum, w.Hdr.Flags);
        Assert.Equal(VirtioNetHdr.GsoUdpL4, w.Hdr.GsoType);
        Assert.Equal(28, w.Hdr.HdrLen);
        Assert.Equal(size, w.Hdr.GsoSize);
        Assert.Equal(20, w.Hdr.CsumStart);
        Assert.Equal(6, w.Hdr.CsumOffset);
        Assert.Equal(datagrams.Count, w.Packets);
        Assert.Equal(datagrams.Sum(d => d.Length), w.InnerBytes);
        var ip = TestPackets.Parse(w.Bytes);
        Assert.True(ip.ValidIPChecksum);
        Assert.Equal(w.Bytes.Length, ip.TotalLength);
        Assert.Equal(w.Bytes.Length - 20, Be(w.Bytes, 24));
        // The checksum field holds the folded (non-inverted) pseudo-header sum over the super-packet's UDP length.
        uint pseudo = OnesSum(w.Bytes.AsSpan(12, 8)) + 17 + (uint)(w.Bytes.Length - 20);
        Assert.Equal(Fold(pseudo), Be(w.Bytes, 26));
        Assert.Equal(datagrams, Resegment(w));
        Assert.All(Resegment(w), d => Assert.True(((UdpPacket)TestPackets.Parse(d).PayloadPacket).ValidUdpChecksum));
    }

    private void AssertWrittenAlone(TunCollector.Written w, byte[] datagram, byte flags)
    {
        Assert.Equal(datagram, w.Bytes);
        Assert.Equal(flags, w.Hdr.Flags);
        Assert.Equal(VirtioNetHdr.GsoNone, w.Hdr.GsoType);
        Assert.Equal(1, w.Packets);
    }

    [Fact]
    public void Consecutive_datagrams_of_a_flow_become_one_udp_gso_write()
    {
        var d = Flow(10, 64);
        d.ForEach(Add);
        Assert.Empty(_out.Writes);
        _c.Flush();
        AssertSuperPacket(Assert.Single(_out.Writes), d);
    }

    [Fact]
    public void A_shorter_last_datagram_is_carried_and_closes_the_flow_at_once()
    {
        var d = Flow(5, 100, lastLength: 30);
        d.ForEach(Add);
        AssertSuperPacket(Assert.Single(_out.Writes), d);
        var next = TestPackets.UdpDatagram(TestPackets.Payload(100), id: 105);
        Add(next);
        _c.Flush();
        Assert.Equal(2, _out.Writes.Count);
        AssertWrittenAlone(_out.Writes[1], next, VirtioNetHdr.FlagDataValid);
    }

    [Fact]
    public void A_larger_datagram_starts_a_new_super_packet()
    {
        var small = Flow(3, 64);
        var large = Flow(3, 200, id0: 103);
        small.ForEach(Add);
        large.ForEach(Add);
        _c.Flush();
        Assert.Equal(2, _out.Writes.Count);
        AssertSuperPacket(_out.Writes[0], small);
        AssertSuperPacket(_out.Writes[1], large);
    }

    [Theory]
    [InlineData("ttl")]
    [InlineData("tos")]
    [InlineData("df")]
    [InlineData("id")]
    public void A_header_difference_breaks_the_chain(string field)
    {
        var first = TestPackets.UdpDatagram(TestPackets.Payload(64, 1), id: 100);
        var second = field switch
        {
            "ttl" => TestPackets.UdpDatagram(TestPackets.Payload(64, 2), id: 101, ttl: 63),
            "tos" => TestPackets.UdpDatagram(TestPackets.Payload(64, 2), id: 101, tos: 0x10),
            "df" => TestPackets.UdpDatagram(TestPackets.Payload(64, 2), id: 101, fragment: 0),
            _ => TestPackets.UdpDatagram(TestPackets.Payload(64, 2), id: 7),
        };
        Add(first);
        Add(second);
        _c.Flush();
        Assert.Equal(2, _out.Writes.Count);
        AssertWrittenAlone(_out.Writes[0], first, VirtioNetHdr.FlagDataValid);
        AssertWrittenAlone(_out.Writes[1], second, VirtioNetHdr.FlagDataValid);
    }

    [Fact]
    public void Ids_wrap_around()
    {
        var d = Flow(4, 64, id0: 65534);
        d.ForEach(Add);
        _c.Flush();
        AssertSuperPacket(Assert.Single(_out.Writes), d);
    }

    [Fact]
    public void Fragments_ip_options_padding_and_zero_checksums_pass_untouched()
    {
        var cases = new List<byte[]>
        {
            TestPackets.UdpDatagram(TestPackets.Payload(64, 1), id: 1, fragment: 0x2000),          // first fragment (MF)
            TestPackets.UdpDatagram(TestPackets.Payload(64, 2), id: 2, fragment: 0x0008),          // later fragment
            TestPackets.UdpDatagram(TestPackets.Payload(64, 3), id: 3, ipOptions: TestPackets.RouterAlert),
            TestPackets.UdpDatagram(TestPackets.Payload(64, 4), id: 4, ipOptions: TestPackets.RouterAlert),
            TestPackets.UdpDatagram(TestPackets.Payload(64, 5), id: 5, zeroChecksum: true),
            TestPackets.UdpDatagram(TestPackets.Payload(64, 6), id: 6, zeroChecksum: true),
            TestPackets.UdpDatagram(TestPackets.Payload(64, 7), id: 7, padding: 2),                // UDP length < IP total - 20
            TestPackets.UdpDatagram(TestPackets.Payload(64, 8), id: 8, padding: 2),
            TestPackets.UdpDatagram(ReadOnlySpan<byte>.Empty, id: 9),                               // no payload
            TestPackets.UdpDatagram(ReadOnlySpan<byte>.Empty, id: 10),
        };
        cases.ForEach(Add);
        Assert.Equal(cases.Count, _out.Writes.Count);
        _c.Flush();
        Assert.Equal(cases.Count, _out.Writes.Count);
        for (int i = 0; i < cases.Count; i++) AssertWrittenAlone(_out.Writes[i], cases[i], 0);
    }

    [Fact]
    public void A_wrong_checksum_is_written_alone_and_unvalidated_after_its_flow()
    {
        var d = Flow(4, 64);
        d[2][^1] ^= 0xff;
        d.ForEach(Add);
        _c.Flush();
        Assert.Equal(3, _out.Writes.Count);
        AssertSuperPacket(_out.Writes[0], d[..2]);
        AssertWrittenAlone(_out.Writes[1], d[2], 0);
        AssertWrittenAlone(_out.Writes[2], d[3], VirtioNetHdr.FlagDataValid);
    }

    [Fact]
    public void Never_more_than_64_segments()
    {
        var d = Flow(100, 64);
        d.ForEach(Add);
        Assert.Single(_out.Writes);
        _c.Flush();
        Assert.Equal(2, _out.Writes.Count);
        AssertSuperPacket(_out.Writes[0], d[..64]);
        AssertSuperPacket(_out.Writes[1], d[64..]);
    }

    [Fact]
    public void Never_more_than_65535_bytes()
    {
        var d = Flow(60, 1400);
        d.ForEach(Add);
        _c.Flush();
        // 28 + 46 * 1400 = 64428; one more would be 65828.
        Assert.Equal(2, _out.Writes.Count);
        Assert.Equal(28 + 46 * 1400, _out.Writes[0].Bytes.Length);
        AssertSuperPacket(_out.Writes[0], d[..46]);
        AssertSuperPacket(_out.Writes[1], d[46..]);
    }

    [Fact]
    public void Interleaved_flows_are_coalesced_separately_in_order_of_arrival()
    {
        var a = Flow(5, 64, sport: 1111);
        var b = Flow(5, 80, id0: 900, sport: 2222);
        for (int i = 0; i < 5; i++) { Add(a[i]); Add(b[i]); }
        _c.Flush();
        Assert.Equal(2, _out.Writes.Count);
        AssertSuperPacket(_out.Writes[0], a);
        AssertSuperPacket(_out.Writes[1], b);
    }

    [Fact]
    public void More_flows_than_slots_flush_the_oldest_and_lose_nothing()
    {
        int flows = UdpCoalescer.MaxFlows + 3;
        var all = Enumerable.Range(0, flows).Select(f => Flow(4, 64, id0: (ushort)(f * 10), sport: (ushort)(3000 + f))).ToList();
        for (int i = 0; i < 4; i++)
            foreach (var f in all) Add(f[i]);
        _c.Flush();
        // Every datagram comes back exactly once, and each flow's datagrams in order.
        var bySport = _out.Writes.SelectMany(w => w.Hdr.GsoType == VirtioNetHdr.GsoUdpL4 ? Resegment(w) : [w.Bytes])
            .GroupBy(d => Be(d, 20)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(flows, bySport.Count);
        for (int f = 0; f < flows; f++) Assert.Equal(all[f], bySport[(ushort)(3000 + f)]);
    }

    [Fact]
    public void A_single_datagram_is_written_unchanged_and_marked_valid()
    {
        var d = TestPackets.UdpDatagram(TestPackets.Payload(64));
        Add(d);
        _c.Flush();
        AssertWrittenAlone(Assert.Single(_out.Writes), d, VirtioNetHdr.FlagDataValid);
    }

    [Fact]
    public void Pending_flows_of_an_address_pair_are_flushed_on_request_only()
    {
        var ab = Flow(3, 64, sport: 1);
        var ba = Enumerable.Range(0, 3).Select(i => TestPackets.UdpDatagram(TestPackets.Payload(64, i), id: (ushort)(50 + i),
            src: TestPackets.B, dst: TestPackets.A)).ToList();
        ab.ForEach(Add);
        ba.ForEach(Add);
        _c.FlushAddresses(BinaryPrimitives.ReadUInt32BigEndian(TestPackets.B.GetAddressBytes()),
            BinaryPrimitives.ReadUInt32BigEndian(TestPackets.A.GetAddressBytes()));
        AssertSuperPacket(Assert.Single(_out.Writes), ba);
        _c.Flush();
        AssertSuperPacket(_out.Writes[1], ab);
    }

    [Fact]
    public void A_refused_gso_write_is_replaced_by_the_original_datagrams_and_later_ones_go_alone()
    {
        _c.Dispose();
        _out = new TunCollector { RefuseUdpGso = true };
        _c = new UdpCoalescer(_out);
        var d = Flow(5, 64);
        d.ForEach(Add);
        _c.Flush();
        Assert.Equal(1, _out.Refused);
        Assert.True(_c.GsoRefused);
        Assert.Equal(5, _out.Writes.Count);
        for (int i = 0; i < 5; i++) AssertWrittenAlone(_out.Writes[i], d[i], VirtioNetHdr.FlagDataValid);

        var later = Flow(3, 64, id0: 105);
        later.ForEach(Add);
        Assert.Equal(8, _out.Writes.Count);
        for (int i = 0; i < 3; i++) AssertWrittenAlone(_out.Writes[5 + i], later[i], 0);
        _c.Flush();
        Assert.Equal(1, _out.Refused);
    }

    public void Dispose()
    {
        _c.Dispose();
        foreach (var p in _buffers) NativeMemory.Free((void*)p);
    }
}
