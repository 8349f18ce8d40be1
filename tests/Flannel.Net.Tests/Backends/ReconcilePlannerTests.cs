using System.Net;
using Flannel.Net.Backends;
using Flannel.Net.Netlink;
using Xunit;

namespace Flannel.Net.Tests.Backends;

public class ReconcilePlannerTests
{
    private static readonly IPNetwork Net = IPNetwork.Parse("10.244.0.0/16");
    private static bool Owned(RouteInfo r) => r.Protocol == Rt.PROT_FLANNEL && Net.Contains(r.Destination.BaseAddress);
    private static RouteInfo Via(string dst, string gw, int dev = 3, byte proto = Rt.PROT_FLANNEL, bool onlink = false) =>
        new(IPNetwork.Parse(dst), IPAddress.Parse(gw), dev, proto, OnLink: onlink);

    [Fact]
    public void Missing_routes_are_added_wrong_ones_fixed_and_stale_owned_ones_removed()
    {
        var desired = new[] { Via("10.244.2.0/24", "10.244.2.0", onlink: true), Via("10.244.3.0/24", "10.244.3.0", onlink: true) };
        var actual = new[]
        {
            Via("10.244.3.0/24", "192.168.1.3", dev: 2),          // ours, wrong next hop
            Via("10.244.9.0/24", "10.244.9.0", onlink: true),     // ours, peer gone
            Via("10.244.1.0/24", "0.0.0.0", proto: Rt.PROT_KERNEL) with { Gateway = null }, // local pod subnet, not ours
            Via("10.99.0.0/16", "192.168.1.1"),                   // ours but outside the network: not this backend's
        };
        var plan = ReconcilePlanner.Routes(desired, actual, Net, Owned);
        Assert.Equal([desired[0]], plan.ToAdd);
        Assert.Equal([(actual[0], desired[1])], plan.ToFix);
        Assert.Equal([actual[1]], plan.ToRemove);
    }

    [Fact]
    public void A_foreign_route_for_a_desired_destination_is_taken_over()
    {
        var desired = Via("10.244.2.0/24", "192.168.1.2");
        var goFlannel = desired with { Protocol = Rt.PROT_BOOT };
        var plan = ReconcilePlanner.Routes([desired], [goFlannel], Net, Owned);
        Assert.Equal([(goFlannel, desired)], plan.ToFix);
    }

    [Fact]
    public void Matching_state_gives_an_empty_plan()
    {
        var r = Via("10.244.2.0/24", "10.244.2.0", onlink: true);
        Assert.True(ReconcilePlanner.Routes([r], [r with { Scope = Rt.SCOPE_UNIVERSE }], Net, Owned).IsEmpty);
    }

    [Fact]
    public void Neighbours_with_a_changed_mac_are_fixed_and_only_permanent_strays_removed()
    {
        var a = MacAddress.Parse("aa:00:00:00:00:01");
        var b = MacAddress.Parse("aa:00:00:00:00:02");
        var desired = new[] { new NeighborInfo(3, IPAddress.Parse("10.244.2.0"), b), new NeighborInfo(3, IPAddress.Parse("10.244.4.0"), a) };
        var actual = new[]
        {
            new NeighborInfo(3, IPAddress.Parse("10.244.2.0"), a),
            new NeighborInfo(3, IPAddress.Parse("10.244.9.0"), a),
            new NeighborInfo(3, IPAddress.Parse("10.244.8.0"), a, Nud.STALE),
        };
        var plan = ReconcilePlanner.Neighbors(desired, actual, Net);
        Assert.Equal([desired[1]], plan.ToAdd);
        Assert.Equal([(actual[0], desired[0])], plan.ToFix);
        Assert.Equal([actual[1]], plan.ToRemove);
    }

    [Fact]
    public void Fdb_entries_of_an_old_vtep_mac_are_removed()
    {
        var oldMac = MacAddress.Parse("aa:00:00:00:00:01");
        var newMac = MacAddress.Parse("aa:00:00:00:00:02");
        var peer = IPAddress.Parse("192.168.1.2");
        var plan = ReconcilePlanner.Fdb([new FdbEntry(3, newMac, peer)], [new FdbEntry(3, oldMac, peer), new FdbEntry(3, oldMac, null)], Net);
        Assert.Equal([new FdbEntry(3, newMac, peer)], plan.ToAdd);
        Assert.Equal([new FdbEntry(3, oldMac, peer)], plan.ToRemove);
    }
}

/// <summary>Issue #11 T4: whatever the desired list says, nothing outside Network is ever written or deleted.</summary>
public class ReconcilePlannerBoundsTests
{
    private static readonly IPNetwork Net = IPNetwork.Parse("10.244.0.0/16");
    // The most permissive "owned" rule a caller could pass: every route is ours. The planner alone must still refuse.
    private static bool AnyOwned(RouteInfo r) => true;
    private static RouteInfo Via(string dst, string gw, int dev = 3, byte proto = Rt.PROT_FLANNEL) =>
        new(IPNetwork.Parse(dst), IPAddress.Parse(gw), dev, proto);

    [Theory]
    [InlineData("0.0.0.0/0")]
    [InlineData("169.254.169.254/32")]
    [InlineData("10.96.0.0/12")]
    [InlineData("10.0.0.0/8")]
    public void A_desired_route_outside_network_is_neither_added_nor_replaces_the_existing_one(string destination)
    {
        var existing = Via(destination, "198.18.0.1", dev: 2, proto: Rt.PROT_BOOT);
        var hijack = Via(destination, "198.18.0.66", dev: 2);

        Assert.True(ReconcilePlanner.Routes([hijack], [existing], Net, AnyOwned).IsEmpty);
        Assert.True(ReconcilePlanner.Routes([hijack], [], Net, AnyOwned).IsEmpty);
    }

    [Fact]
    public void Routes_outside_network_are_never_removed_even_when_marked_as_ours()
    {
        var defaultRoute = Via("0.0.0.0/0", "198.18.0.1", dev: 2);
        var metadata = Via("169.254.169.254/32", "198.18.0.1", dev: 2);
        var services = Via("10.96.0.0/12", "198.18.0.1", dev: 2);
        var stalePeer = Via("10.244.9.0/24", "198.18.0.9", dev: 2);

        var plan = ReconcilePlanner.Routes([], [defaultRoute, metadata, services, stalePeer], Net, AnyOwned);

        Assert.Equal([stalePeer], plan.ToRemove);
        Assert.Empty(plan.ToAdd);
        Assert.Empty(plan.ToFix);
    }

    [Fact]
    public void The_network_route_itself_and_peer_routes_inside_it_are_still_programmed()
    {
        var networkRoute = new RouteInfo(Net, null, 5);
        var peer = Via("10.244.2.0/24", "198.18.0.2", dev: 2);
        var plan = ReconcilePlanner.Routes([networkRoute, peer], [], Net, AnyOwned);
        Assert.Equal([networkRoute, peer], plan.ToAdd);
    }

    [Fact]
    public void Neighbours_outside_network_are_never_added_fixed_or_removed()
    {
        var mac = MacAddress.Parse("aa:00:00:00:00:01");
        var other = MacAddress.Parse("aa:00:00:00:00:02");
        var gateway = new NeighborInfo(3, IPAddress.Parse("198.18.0.1"), other);
        var plan = ReconcilePlanner.Neighbors(
            [new NeighborInfo(3, IPAddress.Parse("198.18.0.1"), mac), new NeighborInfo(3, IPAddress.Parse("169.254.169.254"), mac)],
            [gateway, new NeighborInfo(3, IPAddress.Parse("10.97.0.1"), mac)], Net);
        Assert.True(plan.IsEmpty, $"{plan.ToAdd.Count} {plan.ToFix.Count} {plan.ToRemove.Count}");
    }

    [Fact]
    public void Fdb_entries_are_written_only_for_unicast_vteps_outside_network_and_foreign_entries_are_left_alone()
    {
        var mac = MacAddress.Parse("aa:00:00:00:00:01");
        var broadcast = MacAddress.Parse("ff:ff:ff:ff:ff:ff");
        var zero = MacAddress.Parse("00:00:00:00:00:00");
        var desired = new[]
        {
            new FdbEntry(3, mac, IPAddress.Parse("198.18.0.2")),        // a real peer
            new FdbEntry(3, mac, IPAddress.Parse("10.244.5.1")),        // remote inside the overlay
            new FdbEntry(3, mac, IPAddress.Parse("224.0.0.1")),         // multicast remote
            new FdbEntry(3, broadcast, IPAddress.Parse("198.18.0.3")),  // flood MAC
        };
        var floodEntry = new FdbEntry(3, zero, IPAddress.Parse("198.18.0.7"));
        var plan = ReconcilePlanner.Fdb(desired, [floodEntry], Net);
        Assert.Equal([desired[0]], plan.ToAdd);
        Assert.Empty(plan.ToRemove);
    }
}

public class VxlanLeaseDataTests
{
    [Fact]
    public void Round_trips_flannels_json()
    {
        var data = new VxlanLeaseData(1, MacAddress.Parse("0a:58:0a:f4:01:01"));
        Assert.Equal("{\"VNI\":1,\"VtepMAC\":\"0a:58:0a:f4:01:01\"}", data.ToJson());
        Assert.Equal(data, VxlanLeaseData.TryParse(data.ToJson()));
        Assert.Equal(data, VxlanLeaseData.TryParse("{\"vni\":1,\"vtepmac\":\"0A:58:0A:F4:01:01\"}"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{\"VNI\":1}")]
    [InlineData("{\"VtepMAC\":\"nope\"}")]
    [InlineData("{\"VtepMAC\":\"00:00:00:00:00:00\"}")]
    [InlineData("{not json")]
    public void Invalid_data_is_rejected(string? json) => Assert.Null(VxlanLeaseData.TryParse(json));
}
