using System.Net;
using Flannel.Net.Tunnel;
using Xunit;

namespace Flannel.Net.Tests.Tunnel;

public class UdpTunnelOptionsTests
{
    private static readonly UdpTunnelOptions Good = UdpTunnelOptions.Default(IPAddress.Parse("192.168.1.1"));

    [Fact]
    public void Defaults_are_flannels()
    {
        Assert.Equal("flannel0", Good.TunName);
        Assert.Equal(8285, Good.Port);
        Assert.Equal(1472, Good.Mtu);
        Assert.True(Good.Offload);
        // Not flannel's: its proxy delivers any inner packet from a peer; ours checks inner addresses unless told not to.
        Assert.True(Good.CheckInnerAddresses);
        Assert.Null(Good.LocalSubnet);
        Assert.Equal(32 << 20, Good.SocketBufferBytes);
        Assert.Equal(5000, Good.TxQueueLength);
        Good.Validate();
    }

    [Theory]
    [InlineData("TunName")]
    [InlineData("LocalAddress")]
    [InlineData("Port")]
    [InlineData("Mtu")]
    [InlineData("Queues")]
    [InlineData("TunAddress")]
    [InlineData("LocalSubnet")]
    [InlineData("Nice")]
    [InlineData("Spin")]
    [InlineData("IdleRelease")]
    public void Bad_values_are_refused_naming_the_field(string field)
    {
        var bad = field switch
        {
            "TunName" => Good with { TunName = "a-name-longer-than-15" },
            "LocalAddress" => Good with { LocalAddress = IPAddress.IPv6Loopback },
            "Port" => Good with { Port = 70000 },
            "Mtu" => Good with { Mtu = 40 },
            "LocalSubnet" => Good with { LocalSubnet = IPNetwork.Parse("fd00::/64") },
            "Queues" => Good with { Queues = -1 },
            "TunAddress" => Good with { TunAddress = IPAddress.IPv6Loopback },
            "Nice" => Good with { Nice = 40 },
            "IdleRelease" => Good with { IdleRelease = TimeSpan.Zero },
            _ => Good with { Spin = TimeSpan.FromSeconds(-1) },
        };
        var e = Assert.Throws<ArgumentException>(bad.Validate);
        Assert.Equal(field, e.ParamName);
    }
}
