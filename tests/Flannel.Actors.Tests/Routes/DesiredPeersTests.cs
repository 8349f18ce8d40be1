using System.Net;
using Flannel.Actors.Leases;
using Flannel.Actors.Routes;
using Flannel.Net.Backends;
using Xunit;
using static Flannel.Actors.Tests.Leases.LeaseFixtures;

namespace Flannel.Actors.Tests.Routes;

public sealed class DesiredPeersTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly IPNetwork Network = IPNetwork.Parse("10.244.0.0/16");

    private static LocalNode Self(string? lease = "10.244.1.0/24", string name = "a") =>
        new(name, Network, lease is null ? null : IPNetwork.Parse(lease), IPAddress.Parse("192.0.2.1"));

    private static IReadOnlyList<PeerLease> Peers(IEnumerable<Lease> leases, LocalNode self, DateTimeOffset? now = null) =>
        DesiredPeers.Compute(leases, self, now ?? Now).Accepted;

    [Fact]
    public void Own_and_expired_leases_are_not_peers_and_the_rest_is_sorted_by_subnet()
    {
        var leases = new[]
        {
            Lease("10.244.30.0/24", "c", "192.0.2.3"),
            Lease("10.244.4.0/24", "b", "192.0.2.2"),
            Lease("10.244.1.0/24", "a", "192.0.2.1"),
            Lease("10.244.9.0/24", "gone", "192.0.2.9", Now.AddSeconds(-1)),
        };
        var peers = Peers(leases, Self());
        Assert.Equal(["10.244.4.0/24", "10.244.30.0/24"], peers.Select(p => p.Subnet.ToString()));
        Assert.Equal(IPAddress.Parse("192.0.2.2"), peers[0].PublicIp);
    }

    [Fact]
    public void A_stale_lease_of_another_node_on_our_subnet_is_not_a_peer()
    {
        var leases = new[] { Lease("10.244.1.0/24", "old-name", "192.0.2.11"), Lease("10.244.2.0/24", "b", "192.0.2.2") };
        var selection = DesiredPeers.Compute(leases, Self(), Now);
        Assert.Equal(["10.244.2.0/24"], selection.Accepted.Select(p => p.Subnet.ToString()));
        Assert.Equal(PeerRejectReason.OverlapsOwnLease, Assert.Single(selection.Rejected).Reason);
    }

    [Fact]
    public void A_node_that_left_keeps_its_peer_entry_until_its_lease_expires()
    {
        var leases = new[] { Lease("10.244.2.0/24", "left", "192.0.2.2", Now.AddMinutes(1)) };
        Assert.Single(Peers(leases, Self(null)));
        Assert.Empty(Peers(leases, Self(null), Now.AddMinutes(2)));
    }

    [Fact]
    public void Diff_reports_added_removed_and_changed_peers()
    {
        var before = Peers([Lease("10.244.2.0/24", "b", "192.0.2.2"), Lease("10.244.3.0/24", "c", "192.0.2.3")], Self(null));
        var after = Peers([Lease("10.244.3.0/24", "c", "192.0.2.33"), Lease("10.244.4.0/24", "d", "192.0.2.4")], Self(null));
        var diff = DesiredPeers.Diff(before, after);
        Assert.Equal("10.244.4.0/24", Assert.Single(diff.Added).Subnet.ToString());
        Assert.Equal("10.244.2.0/24", Assert.Single(diff.Removed).Subnet.ToString());
        Assert.Equal(IPAddress.Parse("192.0.2.33"), Assert.Single(diff.Changed).PublicIp);
        Assert.True(DesiredPeers.Diff(after, after).IsEmpty);
    }

    [Theory]
    [InlineData("0.0.0.0/0")]
    [InlineData("169.254.169.254/32")]
    [InlineData("10.96.0.0/12")]
    public void Leases_outside_network_are_never_desired_and_are_reported(string subnet)
    {
        var leases = new[] { Lease(subnet, "evil", "192.0.2.66"), Lease("10.244.2.0/24", "b", "192.0.2.2") };
        var selection = DesiredPeers.Compute(leases, Self(), Now);
        Assert.Equal(["10.244.2.0/24"], selection.Accepted.Select(p => p.Subnet.ToString()));
        var rejected = Assert.Single(selection.Rejected);
        Assert.Equal((subnet, "evil", PeerRejectReason.OutsideNetwork), (rejected.Peer.Subnet.ToString(), rejected.Node, rejected.Reason));
    }

    [Fact]
    public void Two_entries_for_one_subnet_keep_the_highest_version_then_the_lowest_node_name()
    {
        var v1 = Lease("10.244.2.0/24", "b", "192.0.2.2") with { Version = 1 };
        var v9 = Lease("10.244.2.0/24", "x", "192.0.2.9") with { Version = 9 };
        var v9b = Lease("10.244.2.0/24", "w", "192.0.2.8") with { Version = 9 };
        foreach (var order in new[] { new[] { v1, v9, v9b }, new[] { v9b, v1, v9 }, new[] { v9, v9b, v1 } })
        {
            var selection = DesiredPeers.Compute(order, Self(), Now);
            Assert.Equal(IPAddress.Parse("192.0.2.8"), Assert.Single(selection.Accepted).PublicIp);
            Assert.All(selection.Rejected, r => Assert.Equal(PeerRejectReason.DuplicateSubnet, r.Reason));
            Assert.Equal(2, selection.Rejected.Count);
        }
    }

    [Fact]
    public void A_version_at_long_max_value_is_just_a_high_version()
    {
        var max = Lease("10.244.2.0/24", "b", "192.0.2.2") with { Version = long.MaxValue };
        var min = Lease("10.244.3.0/24", "c", "192.0.2.3") with { Version = long.MinValue };
        Assert.Equal(2, DesiredPeers.Compute([max, min], Self(), Now).Accepted.Count);
    }
}
