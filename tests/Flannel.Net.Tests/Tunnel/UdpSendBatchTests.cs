using Flannel.Net.Native;
using Flannel.Net.Tunnel;
using Xunit;

namespace Flannel.Net.Tests.Tunnel;

public unsafe class UdpSendBatchTests
{
    private static PeerRoute Peer(uint ip) => new()
    {
        Network = 0x0a050000 | (ip & 0xff) << 8, PrefixLength = 24, PublicIp = ip, Stats = new PeerStats(),
        Address = SockAddrIn.From(ip, 8285),
    };

    private static readonly PeerRoute A = Peer(0xc0a80101), B = Peer(0xc0a80102);

    /// <summary>Writes <paramref name="length"/> bytes marked with <paramref name="tag"/> at the tail and adds them.</summary>
    private static void Add(UdpSendBatch batch, PeerRoute route, int length, byte tag)
    {
        new Span<byte>(batch.Tail, length).Fill(tag);
        batch.AddPacket(route, length);
    }

    private static ushort? SegmentOption(UdpSendBatch batch, int i)
    {
        ref var h = ref batch.Messages[i].Hdr;
        if (h.Control == null) return null;
        var c = (CmsgHdr*)h.Control;
        Assert.Equal(LibC.SOL_UDP, c->Level);
        Assert.Equal(LibC.UDP_SEGMENT, c->Type);
        Assert.Equal((nuint)18, c->Len);
        return *(ushort*)((byte*)c + 16);
    }

    private static byte[] Payload(UdpSendBatch batch, int i) => new ReadOnlySpan<byte>(batch.Data(i), (int)batch.Bytes(i)).ToArray();

    [Fact]
    public void Same_size_packets_to_one_peer_share_a_gso_message_and_a_shorter_one_closes_it()
    {
        using var batch = new UdpSendBatch(1 << 16, gso: true);
        Add(batch, A, 92, 1);
        Add(batch, A, 92, 2);
        Add(batch, A, 92, 3);
        Add(batch, A, 60, 4);   // shorter: the last datagram of the message
        Add(batch, A, 92, 5);   // cannot follow a short one
        Assert.Equal(2, batch.Count);
        Assert.Equal(4, batch.Segments(0));
        Assert.Equal(92 * 3 + 60, batch.Bytes(0));
        Assert.Equal((ushort)92, SegmentOption(batch, 0));
        var expected = Enumerable.Repeat((byte)1, 92).Concat(Enumerable.Repeat((byte)2, 92)).Concat(Enumerable.Repeat((byte)3, 92))
            .Concat(Enumerable.Repeat((byte)4, 60)).ToArray();
        Assert.Equal(expected, Payload(batch, 0));
        Assert.Equal(1, batch.Segments(1));
        Assert.Null(SegmentOption(batch, 1));
        Assert.Equal(Enumerable.Repeat((byte)5, 92).ToArray(), Payload(batch, 1));
        var name = (SockAddrIn*)batch.Messages[1].Hdr.Name;
        Assert.Equal(A.Address.AddrHostOrder, name->AddrHostOrder);
    }

    [Fact]
    public void A_longer_packet_or_another_peer_starts_a_new_message()
    {
        using var batch = new UdpSendBatch(1 << 16, gso: true);
        Add(batch, A, 92, 1);
        Add(batch, A, 100, 2);
        Add(batch, B, 100, 3);
        Add(batch, A, 100, 4);
        Assert.Equal(4, batch.Count);
        Assert.All(Enumerable.Range(0, 4), i => Assert.Equal(1, batch.Segments(i)));
        Assert.Same(B, batch.Route(2));
        Assert.Equal(Enumerable.Repeat((byte)3, 100).ToArray(), Payload(batch, 2));
    }

    [Fact]
    public void A_message_holds_at_most_64_datagrams_and_65507_bytes()
    {
        using var batch = new UdpSendBatch(1 << 20, gso: true);
        for (int i = 0; i < 130; i++) Add(batch, A, 92, (byte)i);
        Assert.Equal(3, batch.Count);
        Assert.Equal(new[] { 64, 64, 2 }, Enumerable.Range(0, 3).Select(batch.Segments));
        Assert.Equal(Enumerable.Range(0, 130).Select(i => (byte)i), Enumerable.Range(0, 3).SelectMany(i => Payload(batch, i)).Where((_, k) => k % 92 == 0));

        batch.Clear();
        for (int i = 0; i < 60; i++) Add(batch, A, 1472, 7);   // 44 x 1472 = 64768 <= 65507 < 45 x 1472
        Assert.Equal(new[] { 44, 16 }, Enumerable.Range(0, batch.Count).Select(batch.Segments));
    }

    [Fact]
    public void Without_gso_every_packet_is_its_own_message()
    {
        using var batch = new UdpSendBatch(1 << 16, gso: false);
        for (int i = 0; i < 5; i++) Add(batch, A, 92, (byte)i);
        Assert.Equal(5, batch.Count);
        Assert.All(Enumerable.Range(0, 5), i => { Assert.Equal(1, batch.Segments(i)); Assert.Null(SegmentOption(batch, i)); });
    }

    [Fact]
    public void Segments_of_a_super_packet_fill_messages_up_to_the_limits_and_packets_after_them_start_anew()
    {
        using var batch = new UdpSendBatch(1 << 20, gso: true);
        // 100 datagrams of 1000 bytes and a last one of 500: 65 per message at most by bytes, 64 by count.
        int length = 100 * 1000 + 500;
        new Span<byte>(batch.Tail, length).Fill(9);
        batch.AddSegments(A, length, 1000, 101);
        Assert.Equal(new[] { 64, 37 }, Enumerable.Range(0, batch.Count).Select(batch.Segments));
        Assert.Equal(new long[] { 64000, 36500 }, Enumerable.Range(0, batch.Count).Select(batch.Bytes));
        Assert.Equal((ushort)1000, SegmentOption(batch, 1));
        Add(batch, A, 1000, 1);    // the last message ends short: a new one
        Assert.Equal(3, batch.Count);
        Assert.Equal(batch.Room, (1 << 20) - length - 1000);
    }
}
