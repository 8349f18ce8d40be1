using System.Net;
using Flannel.Actors.Leases;
using Flannel.Actors.Routes;
using Flannel.Net.Backends;
using Xunit;

namespace Flannel.Actors.Tests.Routes;

public sealed class ForeignPeersTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly IPNetwork Network = IPNetwork.Parse("10.244.0.0/16");
    private static readonly LocalNode Self = new("a", Network, IPNetwork.Parse("10.244.1.0/24"), IPAddress.Parse("198.18.0.1"));
    private const string MacB = "0a:00:00:00:00:02";
    private const string MacC = "0a:00:00:00:00:03";

    private static string Data(string mac) => $"{{\"VNI\":1,\"VtepMAC\":\"{mac}\"}}";

    private static Lease Lease(string subnet, string node, string ip, string mac) =>
        new(IPNetwork.Parse(subnet), node, IPAddress.Parse(ip), "vxlan", Data(mac), Now.AddHours(24), 1, $"akka.ssl.tcp://flannel@{ip}:4053");

    private static ForeignNode Node(string name, string? podCidr, string? ip, string? data, string backend = "vxlan", bool managed = true) =>
        new(name, podCidr is null ? null : IPNetwork.Parse(podCidr), managed, backend, data, ip is null ? null : IPAddress.Parse(ip));

    private static ForeignNodeView View(IEnumerable<string> members, params ForeignNode[] nodes) =>
        new(nodes, members.ToHashSet());

    private static MergedPeers Merge(IEnumerable<Lease> leases, ForeignNodeView view) =>
        ForeignPeers.Merge(leases, view, Self, "vxlan", Now);

    [Fact]
    public void A_node_outside_the_cluster_with_annotations_is_a_peer_from_its_podcidr_and_annotations()
    {
        var merged = Merge([Lease("10.244.2.0/24", "b", "198.18.0.2", MacB)],
            View(["198.18.0.1", "198.18.0.2"], Node("c", "10.244.3.0/24", "198.18.0.3", Data(MacC))));
        Assert.Equal(["10.244.2.0/24", "10.244.3.0/24"], merged.Selection.Accepted.Select(p => p.Subnet.ToString()));
        var c = merged.Selection.Accepted[1];
        Assert.Equal(IPAddress.Parse("198.18.0.3"), c.PublicIp);
        Assert.Equal(Data(MacC), c.BackendData);
        Assert.Equal(MergedPeers.KubeSource, merged.SourceOf(c.Subnet));
        Assert.Equal(MergedPeers.LeaseSource, merged.SourceOf(IPNetwork.Parse("10.244.2.0/24")));
        Assert.Empty(merged.Selection.Rejected);
    }

    [Fact]
    public void Nodes_without_flannel_for_our_backend_or_without_podcidr_are_not_peers_and_our_own_node_never()
    {
        var merged = Merge([], View(["198.18.0.1"],
            Node("udp-node", "10.244.4.0/24", "198.18.0.4", null, backend: "udp"),
            Node("unmanaged", "10.244.5.0/24", "198.18.0.5", Data(MacB), managed: false),
            Node("no-cidr", null, "198.18.0.6", Data(MacB)),
            Node("a", "10.244.1.0/24", "198.18.0.1", Data(MacB))));
        Assert.Empty(merged.Selection.Accepted);
        Assert.Empty(merged.Selection.Rejected);
    }

    [Fact]
    public void A_members_lease_wins_over_the_same_nodes_annotations()
    {
        var merged = Merge([Lease("10.244.2.0/24", "b", "198.18.0.2", MacB)],
            View(["198.18.0.2"], Node("b", "10.244.2.0/24", "198.18.0.2", Data(MacC))));
        var peer = Assert.Single(merged.Selection.Accepted);
        Assert.Equal(Data(MacB), peer.BackendData);
        Assert.Equal(MergedPeers.LeaseSource, merged.SourceOf(peer.Subnet));
        Assert.Empty(merged.ForeignNodes);
    }

    [Fact]
    public void A_node_moving_from_foreign_to_member_with_its_subnet_changes_nothing_to_program()
    {
        var foreign = Node("b", "10.244.2.0/24", "198.18.0.2", Data(MacB));
        var before = Merge([], View(["198.18.0.1"], foreign));
        var after = Merge([Lease("10.244.2.0/24", "b", "198.18.0.2", MacB)], View(["198.18.0.1", "198.18.0.2"], foreign));
        Assert.Equal(MergedPeers.KubeSource, before.SourceOf(IPNetwork.Parse("10.244.2.0/24")));
        Assert.Equal(MergedPeers.LeaseSource, after.SourceOf(IPNetwork.Parse("10.244.2.0/24")));
        Assert.True(DesiredPeers.Diff(before.Selection.Accepted, after.Selection.Accepted).IsEmpty);
        // And back: the agent leaves the cluster (its lease stays), upstream flannel takes the node with a new device MAC.
        var back = Merge([Lease("10.244.2.0/24", "b", "198.18.0.2", MacB)], View(["198.18.0.1"], foreign with { BackendData = Data(MacC) }));
        var diff = DesiredPeers.Diff(after.Selection.Accepted, back.Selection.Accepted);
        Assert.Empty(diff.Added);
        Assert.Empty(diff.Removed);
        Assert.Equal(Data(MacC), Assert.Single(diff.Changed).BackendData);
    }

    [Fact]
    public void Upstream_v071_vxlan_data_without_a_vni_equals_our_leases_spelling()
    {
        var before = Merge([], View(["198.18.0.1"], Node("b", "10.244.2.0/24", "198.18.0.2", $"{{\"VtepMAC\":\"{MacB}\"}}")));
        var after = Merge([Lease("10.244.2.0/24", "b", "198.18.0.2", MacB)], View(["198.18.0.1", "198.18.0.2"]));
        Assert.Equal(Data(MacB), Assert.Single(before.Selection.Accepted).BackendData);
        Assert.True(DesiredPeers.Diff(before.Selection.Accepted, after.Selection.Accepted).IsEmpty);
    }

    [Fact]
    public void A_departed_members_lease_without_annotations_stays_until_it_expires()
    {
        var merged = Merge([Lease("10.244.2.0/24", "b", "198.18.0.2", MacB)], View(["198.18.0.1"]));
        Assert.Equal(MergedPeers.LeaseSource, merged.SourceOf(Assert.Single(merged.Selection.Accepted).Subnet));
    }

    [Fact]
    public void Deleted_annotations_withdraw_the_peer()
    {
        var with = Merge([], View(["198.18.0.1"], Node("c", "10.244.3.0/24", "198.18.0.3", Data(MacC))));
        var without = Merge([], View(["198.18.0.1"], Node("c", "10.244.3.0/24", null, null, backend: null!, managed: false)));
        Assert.Single(with.Selection.Accepted);
        Assert.Empty(without.Selection.Accepted);
        Assert.Equal("10.244.3.0/24", Assert.Single(DesiredPeers.Diff(with.Selection.Accepted, without.Selection.Accepted).Removed).Subnet.ToString());
    }

    [Theory]
    [InlineData("10.244.7.0/24", "10.244.200.1", MacC, PeerRejectReason.PublicIpInsideNetwork)]
    [InlineData("10.244.7.0/24", "127.0.0.1", MacC, PeerRejectReason.PublicIpNotUnicast)]
    [InlineData("10.244.7.0/24", "224.0.0.5", MacC, PeerRejectReason.PublicIpNotUnicast)]
    [InlineData("10.244.7.0/24", "198.18.0.7", "ff:ff:ff:ff:ff:ff", PeerRejectReason.BadVxlanData)]
    [InlineData("10.244.7.0/24", "198.18.0.7", "not-a-mac", PeerRejectReason.BadVxlanData)]
    [InlineData("10.244.7.0/24", "198.18.0.7", "00:00:00:00:00:00", PeerRejectReason.BadVxlanData)]
    [InlineData("10.245.7.0/24", "198.18.0.7", MacC, PeerRejectReason.OutsideNetwork)]
    [InlineData("10.244.1.128/25", "198.18.0.7", MacC, PeerRejectReason.OverlapsOwnLease)]
    [InlineData("10.244.2.0/25", "198.18.0.7", MacC, PeerRejectReason.OverlapsMemberLease)]
    [InlineData("10.244.0.0/22", "198.18.0.7", MacC, PeerRejectReason.OverlapsMemberLease)]
    [InlineData("10.244.2.0/24", "198.18.0.7", MacC, PeerRejectReason.OverlapsMemberLease)]
    public void Bad_annotations_are_refused_with_their_reason_and_the_members_lease_stays(string podCidr, string ip, string mac, PeerRejectReason reason)
    {
        var merged = Merge([Lease("10.244.2.0/24", "b", "198.18.0.2", MacB)],
            View(["198.18.0.1", "198.18.0.2"], Node("x", podCidr, ip, Data(mac))));
        Assert.Equal("10.244.2.0/24", Assert.Single(merged.Selection.Accepted).Subnet.ToString());
        Assert.Equal(MergedPeers.LeaseSource, merged.SourceOf(IPNetwork.Parse("10.244.2.0/24")));
        var r = Assert.Single(merged.Selection.Rejected);
        Assert.Equal(reason, r.Reason);
        Assert.Equal("x", r.Node);
        Assert.Contains("x", merged.ForeignNodes);
    }

    [Fact]
    public void A_node_without_a_public_ip_annotation_is_refused()
    {
        var merged = Merge([], View(["198.18.0.1"], Node("x", "10.244.7.0/24", null, Data(MacC))));
        Assert.Equal(PeerRejectReason.PublicIpNotUnicast, Assert.Single(merged.Selection.Rejected).Reason);
    }

    [Fact]
    public void Without_a_foreign_view_the_result_is_the_lease_tables()
    {
        var leases = new[] { Lease("10.244.2.0/24", "b", "198.18.0.2", MacB), Lease("10.244.3.0/24", "c", "198.18.0.3", MacC) };
        var merged = Merge(leases, ForeignNodeView.Empty);
        Assert.Equal(DesiredPeers.Compute(leases, Self, Now).Accepted, merged.Selection.Accepted);
        Assert.Empty(merged.Foreign);
    }

    [Fact]
    public void Two_foreign_nodes_on_one_podcidr_keep_one()
    {
        var merged = Merge([], View(["198.18.0.1"],
            Node("c", "10.244.3.0/24", "198.18.0.3", Data(MacC)), Node("d", "10.244.3.0/24", "198.18.0.4", Data(MacB))));
        Assert.Single(merged.Selection.Accepted);
        Assert.Equal(PeerRejectReason.DuplicateSubnet, Assert.Single(merged.Selection.Rejected).Reason);
    }
}
