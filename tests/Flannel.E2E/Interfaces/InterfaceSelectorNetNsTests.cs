using Flannel.Demo;
using System.Net;
using System.Text.RegularExpressions;
using Flannel.Net.Interfaces;
using Flannel.Testing;
using Xunit;

namespace Flannel.E2E.Interfaces;

/// <summary>The real selector on a thread inside a namespace with two dummy links (MTU, routes and addresses of that namespace only).</summary>
public sealed class InterfaceSelectorNetNsTests : IDisposable
{
    private readonly Netns _ns = new("ifs");
    private readonly NamespaceThread _thread;

    public InterfaceSelectorNetNsTests()
    {
        try
        {
            // veth pairs (both ends in the namespace, both up) stand in for NICs; dummy links need a module CI may lack.
            _ns.Exec("ip link add up0 mtu 1400 type veth peer name pe0 mtu 1400");
            _ns.Exec("ip link add up1 mtu 9000 type veth peer name pe1 mtu 9000");
            foreach (var link in new[] { "up0", "pe0", "up1", "pe1" }) _ns.Exec($"ip link set {link} up");
            _ns.Exec("ip addr add 192.0.2.5/24 dev up0");
            _ns.Exec("ip addr add 198.51.100.9/25 dev up1");
            _ns.Exec("ip route add default via 192.0.2.1 dev up0");
            _ns.Exec("ip route add 203.0.113.0/24 via 198.51.100.1 dev up1");
            _thread = new NamespaceThread(_ns);
        }
        catch
        {
            _ns.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _thread.Dispose();
        _ns.Dispose();
    }

    private ExternalInterface Select(InterfaceSelection s) => _thread.Run(() => new InterfaceSelector().Select(s));

    [Fact]
    public void Default_route_interface_with_its_own_mtu()
    {
        var e = Select(new());
        Assert.Equal(("up0", "192.0.2.5", 24, 1400), (e.Name, e.Address.ToString(), e.PrefixLength, e.Mtu));
        Assert.Equal(6, e.HardwareAddress.GetAddressBytes().Length);
    }

    [Fact]
    public void Iface_regex_and_can_reach_pick_the_other_link()
    {
        Assert.Equal(9000, Select(new() { Iface = ["up9", "198.51.100.9"] }).Mtu);
        Assert.Equal("up1", Select(new() { IfaceRegex = [new Regex("^198\\.51\\.")] }).Name);
        var reach = Select(new() { IfaceCanReach = IPAddress.Parse("203.0.113.40"), PublicIp = IPAddress.Parse("203.0.113.200") });
        Assert.Equal(("up1", "198.51.100.9", "203.0.113.200"), (reach.Name, reach.Address.ToString(), reach.PublicIp.ToString()));
        var e = Assert.Throws<InterfaceSelectionException>(() => Select(new() { Iface = ["eth9"] }));
        Assert.StartsWith("no interface matches --iface eth9", e.Message);
    }
}
