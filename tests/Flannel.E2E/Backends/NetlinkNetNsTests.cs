using Flannel.Demo;
using System.Collections.Concurrent;
using System.Net;
using Flannel.Net.Netlink;
using Flannel.Testing;
using Xunit;

namespace Flannel.E2E.Backends;

/// <summary>The rtnetlink client against a real kernel, inside a throwaway namespace; `ip`/`bridge` only to cross-check.</summary>
public sealed class NetlinkNetNsTests : IDisposable
{
    private readonly Netns _ns = new("nl");
    private readonly NamespaceThread _thread;
    private readonly RtNetlink _nl;
    private readonly LinkInfo _underlay;

    public NetlinkNetNsTests()
    {
        try
        {
            _ns.Exec("ip link add d0 type veth peer name d0p");
            _ns.Exec("ip addr add 192.168.77.1/24 dev d0");
            _ns.Exec("ip link set d0 up");
            _thread = new NamespaceThread(_ns);
            _nl = _thread.Run(() => new RtNetlink());
            _underlay = _nl.GetRequiredLink("d0");
        }
        catch
        {
            // xunit does not call Dispose when the constructor throws: do not leak the namespace.
            _ns.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _nl.Dispose();
        _thread.Dispose();
        _ns.Dispose();
    }

    private LinkInfo CreateVxlan(string name = "flannel.7", MacAddress? mac = null) =>
        _nl.CreateVxlan(new VxlanSpec(name, 7, IPAddress.Parse("192.168.77.1"), _underlay.Index, Mac: mac, Mtu: 1450));

    [Fact]
    public void Links_are_listed_found_created_changed_and_deleted()
    {
        var mac = MacAddress.Parse("0a:58:0a:f4:01:07");
        var vx = CreateVxlan(mac: mac);

        Assert.Equal("vxlan", vx.Kind);
        Assert.Equal(7u, vx.Vxlan!.Vni);
        Assert.Equal(IPAddress.Parse("192.168.77.1"), vx.Vxlan.Local);
        Assert.Equal(_underlay.Index, vx.Vxlan.UnderlayIndex);
        Assert.Equal(8472, vx.Vxlan.Port);
        Assert.False(vx.Vxlan.Learning);
        Assert.Equal(mac, vx.Mac);
        Assert.Equal(1450, vx.Mtu);
        Assert.False(vx.IsUp);
        Assert.Contains(_nl.GetLinks(), l => l.Name == "flannel.7" && l.Index == vx.Index);
        Assert.Equal("flannel.7", _nl.GetLink(vx.Index)!.Name);
        Assert.Null(_nl.GetLink("nosuchdev"));

        var detail = _ns.Exec("ip -d link show flannel.7");
        Assert.Contains("vxlan id 7 local 192.168.77.1 dev d0", detail);
        Assert.Contains("nolearning", detail);

        _nl.SetLinkMtu(vx.Index, 1400);
        _nl.SetLinkMac(vx.Index, MacAddress.Parse("0a:58:0a:f4:01:08"));
        _nl.SetLinkUp(vx.Index);
        var changed = _nl.GetLink("flannel.7")!;
        Assert.Equal(1400, changed.Mtu);
        Assert.Equal("0a:58:0a:f4:01:08", changed.Mac.ToString());
        Assert.True(changed.IsUp);
        Assert.Contains("link/ether 0a:58:0a:f4:01:08", _ns.Exec("ip link show flannel.7"));

        _nl.DeleteLink(vx.Index);
        Assert.Null(_nl.GetLink("flannel.7"));
        var e = Assert.Throws<NetlinkException>(() => _nl.DeleteLink(vx.Index));
        Assert.Equal(Errnos.ENODEV, e.Errno);
    }

    [Fact]
    public void Gbp_and_custom_port_are_applied()
    {
        var vx = _nl.CreateVxlan(new VxlanSpec("flannel.9", 9, IPAddress.Parse("192.168.77.1"), _underlay.Index, Port: 4789, Gbp: true));
        Assert.Equal(4789, vx.Vxlan!.Port);
        Assert.True(vx.Vxlan.Gbp);
        Assert.Contains("dstport 4789", _ns.Exec("ip -d link show flannel.9"));
    }

    [Fact]
    public void Addresses_are_added_listed_and_deleted()
    {
        var vx = CreateVxlan();
        var addr = new AddressInfo(vx.Index, IPAddress.Parse("10.244.1.0"), 32);
        _nl.AddAddress(addr);

        var listed = Assert.Single(_nl.GetAddresses(vx.Index));
        Assert.Equal(addr.Address, listed.Address);
        Assert.Equal(32, listed.PrefixLength);
        Assert.Contains("inet 10.244.1.0/32", _ns.Exec("ip addr show dev flannel.7"));
        Assert.Contains(_nl.GetAddresses(), a => a.Index == _underlay.Index && a.ToString() == "192.168.77.1/24");

        var dup = Assert.Throws<NetlinkException>(() => _nl.AddAddress(addr));
        Assert.Equal(Errnos.EEXIST, dup.Errno);
        Assert.StartsWith("netlink: add address 10.244.1.0/32 dev flannel.7: File exists (EEXIST)", dup.Message);

        _nl.DeleteAddress(addr);
        Assert.Empty(_nl.GetAddresses(vx.Index));
    }

    [Fact]
    public void Routes_are_added_replaced_listed_and_deleted_with_our_protocol()
    {
        var vx = CreateVxlan();
        _nl.SetLinkUp(vx.Index);
        var onlink = new RouteInfo(IPNetwork.Parse("10.244.2.0/24"), IPAddress.Parse("10.244.2.0"), vx.Index, OnLink: true);
        var devOnly = new RouteInfo(IPNetwork.Parse("10.244.0.0/16"), null, vx.Index);
        _nl.AddRoute(onlink);
        _nl.AddRoute(devOnly);

        var routes = _nl.GetRoutes();
        var r = Assert.Single(routes, x => x.Destination.Equals(onlink.Destination));
        Assert.True(r.SameForwarding(onlink));
        Assert.Equal(Rt.PROT_FLANNEL, r.Protocol);
        Assert.Equal(Rt.SCOPE_UNIVERSE, r.Scope);
        var d = Assert.Single(routes, x => x.Destination.Equals(devOnly.Destination));
        Assert.Null(d.Gateway);
        Assert.Equal(Rt.SCOPE_LINK, d.Scope);

        var shown = _ns.Exec("ip route show");
        Assert.Contains("10.244.2.0/24 via 10.244.2.0 dev flannel.7 proto 70 onlink", shown);
        Assert.Contains("10.244.0.0/16 dev flannel.7 proto 70 scope link", shown);

        var dup = Assert.Throws<NetlinkException>(() => _nl.AddRoute(onlink));
        Assert.Equal("netlink: add route 10.244.2.0/24 via 10.244.2.0 dev flannel.7 onlink: File exists (EEXIST)", dup.Message);

        // Replace switches the next hop in place (what host-gw / DirectRouting use).
        _nl.ReplaceRoute(new RouteInfo(onlink.Destination, IPAddress.Parse("192.168.77.2"), _underlay.Index));
        Assert.Contains("10.244.2.0/24 via 192.168.77.2 dev d0 proto 70", _ns.Exec("ip route show"));

        _nl.DeleteRoute(new RouteInfo(onlink.Destination, null, null));
        _nl.DeleteRoute(devOnly);
        Assert.DoesNotContain(_nl.GetRoutes(), x => x.Protocol == Rt.PROT_FLANNEL);
        var gone = Assert.Throws<NetlinkException>(() => _nl.DeleteRoute(devOnly));
        Assert.Equal(Errnos.ESRCH, gone.Errno);
    }

    [Fact]
    public void Permanent_neighbours_and_fdb_entries_are_set_listed_and_deleted()
    {
        var vx = CreateVxlan();
        var mac = MacAddress.Parse("aa:bb:cc:00:00:02");
        _nl.SetNeighbor(new NeighborInfo(vx.Index, IPAddress.Parse("10.244.2.0"), mac));
        // Setting again with another MAC replaces in place (a peer's VtepMAC changed).
        var mac2 = MacAddress.Parse("aa:bb:cc:00:00:03");
        _nl.SetNeighbor(new NeighborInfo(vx.Index, IPAddress.Parse("10.244.2.0"), mac2));
        var n = Assert.Single(_nl.GetNeighbors(vx.Index));
        Assert.Equal(mac2, n.Mac);
        Assert.True(n.IsPermanent);
        Assert.Contains("10.244.2.0 lladdr aa:bb:cc:00:00:03 PERMANENT", _ns.Exec("ip neigh show dev flannel.7"));

        _nl.AddFdb(new FdbEntry(vx.Index, mac2, IPAddress.Parse("192.168.77.2")));
        var f = Assert.Single(_nl.GetFdb(vx.Index), e => e.Mac == mac2);
        Assert.Equal(IPAddress.Parse("192.168.77.2"), f.Destination);
        Assert.True(f.IsPermanent);
        Assert.Contains("aa:bb:cc:00:00:03 dst 192.168.77.2 self permanent", _ns.Exec("bridge fdb show dev flannel.7"));

        _nl.DeleteFdb(f);
        Assert.DoesNotContain(_nl.GetFdb(vx.Index), e => e.Mac == mac2);
        _nl.DeleteNeighbor(n);
        Assert.DoesNotContain(_nl.GetNeighbors(vx.Index), x => x.IsPermanent);
    }

    [Fact]
    public void Monitor_reports_route_and_link_changes()
    {
        var changes = new BlockingCollection<NetlinkChange>();
        using var monitor = _thread.Run(() => new NetlinkMonitor());
        monitor.Changed += changes.Add;
        monitor.Start();

        var vx = CreateVxlan();
        _nl.SetLinkUp(vx.Index);
        _nl.AddRoute(new RouteInfo(IPNetwork.Parse("10.244.3.0/24"), IPAddress.Parse("10.244.3.0"), vx.Index, OnLink: true));

        var seen = new HashSet<NetlinkChangeKind>();
        Poll.Until(() =>
        {
            while (changes.TryTake(out var c)) seen.Add(c.Kind);
            return seen.Contains(NetlinkChangeKind.Link) && seen.Contains(NetlinkChangeKind.Route);
        }, TimeSpan.FromSeconds(10), () => $"link and route changes seen (seen: {string.Join(", ", seen)})");
        Assert.Contains(NetlinkChangeKind.Link, seen);
        Assert.Contains(NetlinkChangeKind.Route, seen);
    }
}
