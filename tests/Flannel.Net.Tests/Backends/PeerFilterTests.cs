using System.Net;
using Flannel.Net.Backends;
using Xunit;

namespace Flannel.Net.Tests.Backends;

public class PeerFilterTests
{
    private static readonly IPNetwork Net = IPNetwork.Parse("10.244.0.0/16");
    private static readonly IPNetwork Own = IPNetwork.Parse("10.244.1.0/24");
    private static readonly IPAddress OwnIp = IPAddress.Parse("198.18.0.1");
    private const string Mac = "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:ee:01\"}";

    private static PeerLease Peer(string subnet, string ip = "198.18.0.2", string type = "udp", string? data = null) =>
        new(IPNetwork.Parse(subnet), IPAddress.Parse(ip), type, data);

    private static PeerRejectReason? Check(PeerLease p) => PeerFilter.Check(p, Net, Own, OwnIp);

    private static PeerSelection Apply(params PeerLease[] peers) =>
        PeerFilter.Apply(peers.Select(p => (p, (string?)null)), Net, Own, OwnIp);

    [Theory]
    [InlineData("0.0.0.0/0")]
    [InlineData("169.254.169.254/32")]
    [InlineData("10.96.0.0/12")]
    [InlineData("10.0.0.0/8")]
    [InlineData("192.0.2.0/24")]
    public void Subnets_outside_network_are_refused(string subnet) =>
        Assert.Equal(PeerRejectReason.OutsideNetwork, Check(Peer(subnet)));

    [Theory]
    [InlineData("10.244.1.0/24")]
    [InlineData("10.244.1.128/25")]
    [InlineData("10.244.0.0/23")]
    [InlineData("10.244.0.0/16")]
    public void Subnets_overlapping_the_own_lease_are_refused(string subnet) =>
        Assert.Equal(PeerRejectReason.OverlapsOwnLease, Check(Peer(subnet)));

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("127.0.0.1")]
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.250")]
    [InlineData("255.255.255.255")]
    [InlineData("240.0.0.1")]
    [InlineData("169.254.169.254")]
    public void Public_ips_that_are_not_a_remote_unicast_host_are_refused(string ip) =>
        Assert.Equal(PeerRejectReason.PublicIpNotUnicast, Check(Peer("10.244.2.0/24", ip)));

    [Fact]
    public void A_public_ip_inside_network_or_our_own_is_refused()
    {
        Assert.Equal(PeerRejectReason.PublicIpInsideNetwork, Check(Peer("10.244.2.0/24", "10.244.7.1")));
        Assert.Equal(PeerRejectReason.OwnPublicIp, Check(Peer("10.244.2.0/24", "198.18.0.1")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not json")]
    [InlineData("{\"VNI\":1}")]
    [InlineData("{\"VNI\":1,\"VtepMAC\":\"01:00:5e:00:00:01\"}")]
    [InlineData("{\"VNI\":1,\"VtepMAC\":\"ff:ff:ff:ff:ff:ff\"}")]
    [InlineData("{\"VNI\":1,\"VtepMAC\":\"00:00:00:00:00:00\"}")]
    public void Vxlan_entries_need_a_unicast_vtep_mac(string? data) =>
        Assert.Equal(PeerRejectReason.BadVxlanData, Check(Peer("10.244.2.0/24", type: "vxlan", data: data)));

    [Fact]
    public void A_normal_peer_of_every_backend_passes()
    {
        Assert.Null(Check(Peer("10.244.2.0/24")));
        Assert.Null(Check(Peer("10.244.2.0/24", type: "host-gw")));
        Assert.Null(Check(Peer("10.244.2.0/24", type: "vxlan", data: Mac)));
    }

    [Fact]
    public void Ipv6_is_refused() =>
        Assert.Equal(PeerRejectReason.NotIpv4, Check(new PeerLease(IPNetwork.Parse("fd00::/64"), IPAddress.Parse("198.18.0.2"), "udp", null)));

    [Fact]
    public void The_first_entry_of_a_subnet_wins_and_later_ones_are_duplicates()
    {
        var first = Peer("10.244.2.0/24", "198.18.0.2");
        var second = Peer("10.244.2.0/24", "198.18.0.66");
        var s = Apply(first, second);
        Assert.Equal([first], s.Accepted);
        Assert.Equal(PeerRejectReason.DuplicateSubnet, Assert.Single(s.Rejected).Reason);
        Assert.Same(second, s.Rejected[0].Peer);
    }

    [Fact]
    public void Overlapping_entries_keep_the_most_specific_whatever_the_input_order()
    {
        var a = Peer("10.244.2.0/24", "198.18.0.2");
        var b = Peer("10.244.3.0/24", "198.18.0.3");
        var broad = Peer("10.244.2.0/23", "198.18.0.66");
        var inside = Peer("10.244.3.0/25", "198.18.0.67");
        foreach (var order in new[] { new[] { broad, a, b, inside }, new[] { inside, b, a, broad }, new[] { a, inside, broad, b } })
        {
            var s = Apply(order);
            Assert.Equal(["10.244.2.0/24", "10.244.3.0/25"], s.Accepted.Select(p => p.Subnet.ToString()));
            Assert.Equal(
                [("10.244.2.0/23", PeerRejectReason.OverlapsPeer), ("10.244.3.0/24", PeerRejectReason.OverlapsPeer)],
                s.Rejected.Select(r => (r.Peer.Subnet.ToString(), r.Reason)).Order());
        }
    }

    [Fact]
    public void The_number_of_peers_is_capped()
    {
        // 10.244.0.0/16 has room for 16,384 /30s: more than the cap, all valid and disjoint.
        var peers = Enumerable.Range(0, PeerFilter.MaxPeers + 100)
            .Select(i => Peer($"10.244.{64 + i / 64}.{i % 64 * 4}/30"))
            .ToArray();
        var s = Apply(peers);
        Assert.Equal(PeerFilter.MaxPeers, s.Accepted.Count);
        Assert.Equal(100, s.Rejected.Count(r => r.Reason == PeerRejectReason.TooManyPeers));
        // Deterministic: the lowest addresses are kept.
        Assert.Equal("10.244.64.0/30", s.Accepted[0].Subnet.ToString());
    }

    [Fact]
    public void A_large_hostile_table_is_filtered_quickly()
    {
        // 100,000 entries: all /32s inside Network plus broad ones covering them; one pass must stay well under a second.
        var peers = Enumerable.Range(0, 100_000).Select(i => Peer($"10.244.{2 + i / 256 % 250}.{i % 256}/32"))
            .Concat(Enumerable.Range(0, 1000).Select(i => Peer($"10.244.{i % 250}.0/24")))
            .ToArray();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var s = Apply(peers);
        sw.Stop();
        Assert.Equal(PeerFilter.MaxPeers, s.Accepted.Count);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"filtering took {sw.Elapsed}");
    }

    [Fact]
    public void Accepted_peers_are_sorted_by_address()
    {
        var s = Apply(Peer("10.244.30.0/24"), Peer("10.244.4.0/24"), Peer("10.244.200.0/24"));
        Assert.Equal(["10.244.4.0/24", "10.244.30.0/24", "10.244.200.0/24"], s.Accepted.Select(p => p.Subnet.ToString()));
    }
}
