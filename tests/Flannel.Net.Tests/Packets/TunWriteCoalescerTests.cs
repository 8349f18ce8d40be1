using System.Net;
using System.Runtime.InteropServices;
using Flannel.Net.Packets;
using Xunit;

namespace Flannel.Net.Tests.Packets;

public unsafe class TunWriteCoalescerTests : IDisposable
{
    private readonly List<nint> _buffers = new();
    private readonly TunCollector _out = new();
    private readonly TunWriteCoalescer _c;

    public TunWriteCoalescerTests() => _c = new TunWriteCoalescer(_out);

    private void Add(byte[] packet)
    {
        var p = (byte*)NativeMemory.Alloc((nuint)packet.Length);
        _buffers.Add((nint)p);
        packet.CopyTo(new Span<byte>(p, packet.Length));
        _c.Add(p, packet.Length);
    }

    private static byte[] Tcp(int i, IPAddress? src = null, IPAddress? dst = null) =>
        TestPackets.Tcp(1000 + (uint)i * 1000, TestPackets.Payload(1000, i), id: (ushort)i, src: src, dst: dst);

    private static byte[] Udp(int i, IPAddress? src = null, IPAddress? dst = null) =>
        TestPackets.UdpDatagram(TestPackets.Payload(64, 100 + i), id: (ushort)(500 + i), src: src, dst: dst);

    /// <summary>What each write stands for: "T" TCP super-packet, "U" UDP super-packet, "t"/"u"/"i" one packet; with its count.</summary>
    private List<string> Kinds() => _out.Writes.Select(w => w.Hdr.GsoType switch
    {
        VirtioNetHdr.GsoTcpV4 => $"T{w.Packets}",
        VirtioNetHdr.GsoUdpL4 => $"U{w.Packets}",
        _ => w.Bytes[9] switch { 6 => "t", 17 => "u", _ => "i" },
    }).ToList();

    [Fact]
    public void Tcp_and_udp_of_the_same_addresses_keep_their_order()
    {
        Add(Tcp(0));
        Add(Tcp(1));
        Add(Udp(0));
        Add(Udp(1));
        Add(Tcp(2));
        Add(Tcp(3));
        Add(Udp(2));
        _c.Flush();
        Assert.Equal(["T2", "U2", "T2", "u"], Kinds());
    }

    [Fact]
    public void Other_address_pairs_do_not_interrupt_a_flow()
    {
        var c = IPAddress.Parse("10.1.3.4");
        for (int i = 0; i < 4; i++)
        {
            Add(Tcp(i));
            Add(Udp(i, src: c));
        }
        _c.Flush();
        Assert.Equal(["T4", "U4"], Kinds());
    }

    [Fact]
    public void Icmp_and_fragments_flush_their_address_pair_first()
    {
        Add(Udp(0));
        Add(Udp(1));
        Add(TestPackets.IcmpEcho());
        Add(Tcp(0));
        Add(Tcp(1));
        var fragment = TestPackets.UdpDatagram(TestPackets.Payload(64), fragment: 0x2000);
        Add(fragment);
        Add(Udp(2));
        Add(Udp(3));
        _c.Flush();
        Assert.Equal(["U2", "i", "T2", "u", "U2"], Kinds());
        Assert.Equal(fragment, _out.Writes[3].Bytes);
        Assert.Equal(0, _out.Writes[3].Hdr.Flags);
    }

    public void Dispose()
    {
        _c.Dispose();
        foreach (var p in _buffers) NativeMemory.Free((void*)p);
    }
}
