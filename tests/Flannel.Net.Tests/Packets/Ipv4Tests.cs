using System.Buffers.Binary;
using CsCheck;
using Flannel.Net.Packets;
using Xunit;

namespace Flannel.Net.Tests.Packets;

public class Ipv4Tests
{
    [Fact]
    public void Valid_packet_passes_and_reports_its_total_length_also_with_trailing_bytes()
    {
        var p = TestPackets.Tcp(1, TestPackets.Payload(100));
        Assert.Equal(PacketError.None, Ipv4.Validate(p, out int total));
        Assert.Equal(p.Length, total);
        var padded = p.Concat(new byte[6]).ToArray();
        Assert.Equal(PacketError.None, Ipv4.Validate(padded, out total));
        Assert.Equal(p.Length, total);
    }

    [Fact]
    public void Packet_with_ip_options_is_valid()
    {
        var p = TestPackets.Tcp(1, TestPackets.Payload(10), ipOptions: TestPackets.RouterAlert);
        Assert.Equal(PacketError.None, Ipv4.Validate(p, out _));
        Assert.Equal(24, Ipv4.HeaderLength(p));
    }

    [Fact]
    public void Truncated_packets_are_refused()
    {
        var p = TestPackets.Tcp(1, TestPackets.Payload(100));
        Assert.Equal(PacketError.Truncated, Ipv4.Validate(p.AsSpan(0, p.Length - 1), out _));
        Assert.Equal(PacketError.Truncated, Ipv4.Validate(p.AsSpan(0, 19), out _));
        Assert.Equal(PacketError.Truncated, Ipv4.Validate(ReadOnlySpan<byte>.Empty, out _));
    }

    [Fact]
    public void Ipv6_is_not_ipv4()
    {
        var v6 = new byte[40];
        v6[0] = 0x60;
        Assert.Equal(PacketError.NotIpv4, Ipv4.Validate(v6, out _));
    }

    [Fact]
    public void Bad_header_length_total_length_or_checksum_is_malformed()
    {
        var p = TestPackets.Tcp(1, TestPackets.Payload(50));
        var badIhl = (byte[])p.Clone();
        badIhl[0] = 0x44;
        Assert.Equal(PacketError.Malformed, Ipv4.Validate(badIhl, out _));

        var shortTotal = (byte[])p.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(shortTotal.AsSpan(2), 19);
        Ipv4.UpdateHeaderChecksum(shortTotal);
        Assert.Equal(PacketError.Malformed, Ipv4.Validate(shortTotal, out _));

        var badSum = (byte[])p.Clone();
        badSum[10] ^= 0x01;
        Assert.Equal(PacketError.Malformed, Ipv4.Validate(badSum, out _));
    }

    [Fact]
    public void Decrementing_the_ttl_keeps_the_header_checksum_right()
    {
        Gen.Select(Gen.Byte[2, 255], Gen.UShort, Gen.Byte, Gen.UShort).Sample((ttl, id, tos, frag) =>
        {
            var p = TestPackets.Tcp(1, TestPackets.Payload(20), id: id, ttl: ttl, tos: tos, fragment: (ushort)(frag & 0x5fff));
            Assert.True(Ipv4.DecrementTtl(p));
            Assert.Equal(ttl - 1, p[8]);
            Assert.True(TestPackets.Parse(p).ValidIPChecksum);
            Assert.Equal(PacketError.None, Ipv4.Validate(p, out _));
        });
    }

    [Fact]
    public void Ttl_of_one_is_not_decremented()
    {
        var p = TestPackets.Tcp(1, TestPackets.Payload(20), ttl: 1);
        var before = (byte[])p.Clone();
        Assert.False(Ipv4.DecrementTtl(p));
        Assert.Equal(before, p);
    }

    [Fact]
    public void Fragment_fields_are_decoded()
    {
        var first = TestPackets.Tcp(1, TestPackets.Payload(20), fragment: 0x2000);
        var later = TestPackets.Tcp(1, TestPackets.Payload(20), fragment: 0x0010);
        var whole = TestPackets.Tcp(1, TestPackets.Payload(20), fragment: 0x4000);
        Assert.True(Ipv4.IsFragment(first));
        Assert.True(Ipv4.MoreFragments(first));
        Assert.Equal(0, Ipv4.FragmentOffset(first));
        Assert.True(Ipv4.IsFragment(later));
        Assert.Equal(0x10, Ipv4.FragmentOffset(later));
        Assert.False(Ipv4.IsFragment(whole));
    }
}
