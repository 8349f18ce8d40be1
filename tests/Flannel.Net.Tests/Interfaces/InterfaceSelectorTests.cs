using System.Net;
using System.Net.NetworkInformation;
using System.Text.RegularExpressions;
using Flannel.Net.Interfaces;
using Xunit;

namespace Flannel.Net.Tests.Interfaces;

public class InterfaceSelectorTests
{
    private sealed class FakeSource(IReadOnlyList<HostInterface> interfaces, IReadOnlyList<RouteEntry> routes, IPAddress? src = null) : IInterfaceSource
    {
        public IReadOnlyList<HostInterface> Interfaces() => interfaces;
        public IReadOnlyList<RouteEntry> Routes() => routes;
        public IPAddress? SourceAddressFor(IPAddress destination) => src;
    }

    private static HostInterface If(string name, int index, params string[] cidrs) => new(name, index, 1500,
        PhysicalAddress.Parse($"02-00-00-00-00-{index:X2}"),
        cidrs.Select(c => (IPAddress.Parse(c.Split('/')[0]), int.Parse(c.Split('/')[1]))).ToList());

    private static readonly IReadOnlyList<HostInterface> Hosts =
    [
        If("lo", 1, "127.0.0.1/8"),
        If("eth0", 2, "192.0.2.10/24"),
        If("eth1", 3, "198.51.100.20/24", "198.51.100.21/24"),
        If("ens5", 4),
    ];

    private static readonly IReadOnlyList<RouteEntry> Routes =
    [
        new("eth1", IPNetwork.Parse("198.51.100.0/24"), IPAddress.Any, 0),
        new("eth0", IPNetwork.Parse("0.0.0.0/0"), IPAddress.Parse("192.0.2.1"), 100),
        new("eth1", IPNetwork.Parse("0.0.0.0/0"), IPAddress.Parse("198.51.100.1"), 50),
        new("eth0", IPNetwork.Parse("192.0.2.0/24"), IPAddress.Any, 0),
    ];

    private static ExternalInterface Select(InterfaceSelection s, IPAddress? src = null) =>
        new InterfaceSelector(new FakeSource(Hosts, Routes, src)).Select(s);

    [Fact]
    public void Default_route_with_the_lowest_metric_wins()
    {
        var e = Select(new InterfaceSelection());
        Assert.Equal(("eth1", 3, "198.51.100.20", 24, 1500), (e.Name, e.Index, e.Address.ToString(), e.PrefixLength, e.Mtu));
        Assert.Equal(e.Address, e.PublicIp);
        Assert.Equal(PhysicalAddress.Parse("02-00-00-00-00-03"), e.HardwareAddress);
    }

    [Fact]
    public void Iface_entries_are_tried_in_order_by_name_or_ip()
    {
        Assert.Equal("eth0", Select(new() { Iface = ["eth9", "eth0", "eth1"] }).Name);
        var byIp = Select(new() { Iface = ["10.9.9.9", "198.51.100.21"] });
        Assert.Equal(("eth1", "198.51.100.21"), (byIp.Name, byIp.Address.ToString()));
    }

    [Fact]
    public void No_matching_iface_is_a_clear_error()
    {
        var e = Assert.Throws<InterfaceSelectionException>(() => Select(new() { Iface = ["eth9"] }));
        Assert.StartsWith("no interface matches --iface eth9", e.Message);
        Assert.Contains("eth0=192.0.2.10", e.Message);
    }

    [Fact]
    public void An_interface_without_ipv4_is_refused_by_name()
    {
        var e = Assert.Throws<InterfaceSelectionException>(() => Select(new() { Iface = ["ens5"] }));
        Assert.Contains("failed to find IPv4 address for interface ens5", e.Message);
    }

    [Fact]
    public void Regex_matches_addresses_before_names()
    {
        Assert.Equal("eth0", Select(new() { IfaceRegex = [new Regex(@"^192\.0\.2\.")] }).Name);
        Assert.Equal("eth1", Select(new() { IfaceRegex = [new Regex("^nomatch$"), new Regex("eth1")] }).Name);
        var e = Assert.Throws<InterfaceSelectionException>(() => Select(new() { IfaceRegex = [new Regex("^wlan")] }));
        Assert.StartsWith("no interface matches --iface-regex ^wlan", e.Message);
    }

    [Fact]
    public void Iface_takes_precedence_over_regex_and_can_reach()
    {
        Assert.Equal("eth0", Select(new() { Iface = ["eth0"], IfaceRegex = [new Regex("eth1")], IfaceCanReach = IPAddress.Parse("198.51.100.5") }).Name);
    }

    [Fact]
    public void Can_reach_uses_the_longest_prefix_route_and_the_kernel_source_address()
    {
        var e = Select(new() { IfaceCanReach = IPAddress.Parse("198.51.100.99") }, src: IPAddress.Parse("198.51.100.21"));
        Assert.Equal(("eth1", "198.51.100.21"), (e.Name, e.Address.ToString()));
        Assert.Equal("eth1", Select(new() { IfaceCanReach = IPAddress.Parse("203.0.113.1") }).Name); // via the default route
        var none = new InterfaceSelector(new FakeSource(Hosts, [])).Select;
        Assert.Equal("no route to --iface-can-reach 203.0.113.1",
            Assert.Throws<InterfaceSelectionException>(() => none(new() { IfaceCanReach = IPAddress.Parse("203.0.113.1") })).Message);
    }

    [Fact]
    public void Public_ip_overrides_the_advertised_address_only()
    {
        var e = Select(new() { Iface = ["eth0"], PublicIp = IPAddress.Parse("203.0.113.7") });
        Assert.Equal(IPAddress.Parse("192.0.2.10"), e.Address);
        Assert.Equal(IPAddress.Parse("203.0.113.7"), e.PublicIp);
    }

    [Fact]
    public void No_default_route_says_which_flags_help()
    {
        var e = Assert.Throws<InterfaceSelectionException>(() => new InterfaceSelector(new FakeSource(Hosts, [])).Select(new()));
        Assert.Contains("no default route", e.Message);
        Assert.Contains("--iface", e.Message);
    }

    [Fact]
    public void The_system_source_reads_the_real_loopback()
    {
        var lo = new InterfaceSelector().Select(new() { Iface = ["lo"] });
        Assert.Equal(IPAddress.Loopback, lo.Address);
        Assert.Equal(8, lo.PrefixLength);
        Assert.True(lo.Mtu > 0);
        Assert.True(lo.Index > 0);
        Assert.Equal("lo", new InterfaceSelector().Select(new() { Iface = ["127.0.0.1"] }).Name);
    }
}
