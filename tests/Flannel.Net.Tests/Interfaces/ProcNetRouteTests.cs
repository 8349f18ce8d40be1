using System.Net;
using Flannel.Net.Interfaces;
using Xunit;

namespace Flannel.Net.Tests.Interfaces;

public class ProcNetRouteTests
{
    [Fact]
    public void Parses_the_kernel_format_and_skips_routes_that_are_down()
    {
        const string text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
            "eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
            "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
            "eth1\t0002000A\t00000000\t0000\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        var routes = ProcNetRoute.Parse(text);
        Assert.Equal(2, routes.Count);
        Assert.Equal(new RouteEntry("eth0", IPNetwork.Parse("0.0.0.0/0"), IPAddress.Parse("10.0.0.1"), 100), routes[0]);
        Assert.Equal(new RouteEntry("eth0", IPNetwork.Parse("10.0.0.0/24"), IPAddress.Any, 0), routes[1]);
    }

    [Fact]
    public void A_malformed_line_is_named()
    {
        var e = Assert.Throws<FormatException>(() => ProcNetRoute.Parse("header\neth0\tZZ\t0\t1\t0\t0\t0\t0\n"));
        Assert.Contains("eth0", e.Message);
    }

    [Fact]
    public void Reads_this_namespace()
    {
        // Every route the kernel reports must parse; the root namespace may or may not have a default route.
        var routes = ProcNetRoute.Read();
        Assert.All(routes, r => Assert.False(string.IsNullOrEmpty(r.Interface)));
    }
}
