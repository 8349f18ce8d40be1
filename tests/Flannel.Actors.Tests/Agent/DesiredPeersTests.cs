using System.Net;
using Flannel.Actors.Routes;
using Xunit;
using static Flannel.Actors.Tests.Agent.LeaseFixtures;

namespace Flannel.Actors.Tests.Agent;

public sealed class DesiredPeersTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

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
        var peers = DesiredPeers.Compute(leases, "a", IPNetwork.Parse("10.244.1.0/24"), Now);
        Assert.Equal(["10.244.4.0/24", "10.244.30.0/24"], peers.Select(p => p.Subnet.ToString()));
        Assert.Equal(IPAddress.Parse("192.0.2.2"), peers[0].PublicIp);
    }

    [Fact]
    public void A_stale_lease_of_another_node_on_our_subnet_is_not_a_peer()
    {
        var leases = new[] { Lease("10.244.1.0/24", "old-name", "192.0.2.1"), Lease("10.244.2.0/24", "b", "192.0.2.2") };
        var peers = DesiredPeers.Compute(leases, "a", IPNetwork.Parse("10.244.1.0/24"), Now);
        Assert.Equal(["10.244.2.0/24"], peers.Select(p => p.Subnet.ToString()));
    }

    [Fact]
    public void A_node_that_left_keeps_its_peer_entry_until_its_lease_expires()
    {
        var leases = new[] { Lease("10.244.2.0/24", "left", "192.0.2.2", Now.AddMinutes(1)) };
        Assert.Single(DesiredPeers.Compute(leases, "a", null, Now));
        Assert.Empty(DesiredPeers.Compute(leases, "a", null, Now.AddMinutes(2)));
    }

    [Fact]
    public void Diff_reports_added_removed_and_changed_peers()
    {
        var before = DesiredPeers.Compute([Lease("10.244.2.0/24", "b", "192.0.2.2"), Lease("10.244.3.0/24", "c", "192.0.2.3")], "a", null, Now);
        var after = DesiredPeers.Compute([Lease("10.244.3.0/24", "c", "192.0.2.33"), Lease("10.244.4.0/24", "d", "192.0.2.4")], "a", null, Now);
        var diff = DesiredPeers.Diff(before, after);
        Assert.Equal("10.244.4.0/24", Assert.Single(diff.Added).Subnet.ToString());
        Assert.Equal("10.244.2.0/24", Assert.Single(diff.Removed).Subnet.ToString());
        Assert.Equal(IPAddress.Parse("192.0.2.33"), Assert.Single(diff.Changed).PublicIp);
        Assert.True(DesiredPeers.Diff(after, after).IsEmpty);
    }
}
