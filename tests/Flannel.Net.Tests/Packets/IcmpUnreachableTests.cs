using System.Net;
using Flannel.Net.Packets;
using Flannel.Net.Tunnel;
using PacketDotNet;
using Xunit;

namespace Flannel.Net.Tests.Packets;

public class IcmpUnreachableTests
{
    private static readonly IPAddress Tun = IPAddress.Parse("10.1.1.0");

    [Fact]
    public void Reply_is_net_unreachable_from_the_tun_address_quoting_header_and_8_bytes()
    {
        var offender = TestPackets.Tcp(1, TestPackets.Payload(500), id: 4242);
        var buf = new byte[IcmpUnreachable.MaxLength];
        int len = IcmpUnreachable.Write(buf, offender, PeerTable.ToHost(Tun));
        var ip = TestPackets.Parse(buf[..len]);
        Assert.True(ip.ValidIPChecksum);
        Assert.Equal(Tun, ip.SourceAddress);
        Assert.Equal(TestPackets.A, ip.DestinationAddress);
        Assert.Equal(ProtocolType.Icmp, ip.Protocol);
        Assert.Equal(len, ip.TotalLength);
        var icmp = Assert.IsType<IcmpV4Packet>(ip.PayloadPacket);
        Assert.Equal(IcmpV4TypeCode.UnreachableNet, icmp.TypeCode);
        Assert.True(icmp.ValidIcmpChecksum);
        Assert.Equal(offender[..28], buf[28..len]);
    }

    [Fact]
    public void Quote_includes_ip_options()
    {
        var offender = TestPackets.Tcp(1, TestPackets.Payload(50), ipOptions: TestPackets.RouterAlert);
        var buf = new byte[IcmpUnreachable.MaxLength];
        int len = IcmpUnreachable.Write(buf, offender, PeerTable.ToHost(Tun));
        Assert.Equal(20 + 8 + 24 + 8, len);
        Assert.Equal(offender[..32], buf[28..len]);
    }

    [Fact]
    public void Never_for_icmp_or_non_first_fragments()
    {
        Assert.False(IcmpUnreachable.ShouldSend(TestPackets.IcmpEcho()));
        Assert.False(IcmpUnreachable.ShouldSend(TestPackets.Tcp(1, TestPackets.Payload(20), fragment: 0x0020)));
        Assert.True(IcmpUnreachable.ShouldSend(TestPackets.Tcp(1, TestPackets.Payload(20), fragment: 0x2000)));
        Assert.True(IcmpUnreachable.ShouldSend(TestPackets.Udp(TestPackets.Payload(20))));
    }
}
