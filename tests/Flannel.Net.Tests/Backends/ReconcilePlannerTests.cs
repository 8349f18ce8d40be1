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
        var plan = ReconcilePlanner.Routes(desired, actual, Owned);
        Assert.Equal([desired[0]], plan.ToAdd);
        Assert.Equal([(actual[0], desired[1])], plan.ToFix);
        Assert.Equal([actual[1]], plan.ToRemove);
    }

    [Fact]
    public void A_foreign_route_for_a_desired_destination_is_taken_over()
    {
        var desired = Via("10.244.2.0/24", "192.168.1.2");
        var goFlannel = desired with { Protocol = Rt.PROT_BOOT };
        var plan = ReconcilePlanner.Routes([desired], [goFlannel], Owned);
        Assert.Equal([(goFlannel, desired)], plan.ToFix);
    }

    [Fact]
    public void Matching_state_gives_an_empty_plan()
    {
        var r = Via("10.244.2.0/24", "10.244.2.0", onlink: true);
        Assert.True(ReconcilePlanner.Routes([r], [r with { Scope = Rt.SCOPE_UNIVERSE }], Owned).IsEmpty);
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
        var plan = ReconcilePlanner.Neighbors(desired, actual);
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
        var plan = ReconcilePlanner.Fdb([new FdbEntry(3, newMac, peer)], [new FdbEntry(3, oldMac, peer), new FdbEntry(3, oldMac, null)]);
        Assert.Equal([new FdbEntry(3, newMac, peer)], plan.ToAdd);
        Assert.Equal([new FdbEntry(3, oldMac, peer)], plan.ToRemove);
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
