using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flannel.Testing;
using Flannel.Actors.Leases;
using Flannel.Net.Config;
using Xunit;
using static Flannel.Actors.Tests.Leases.LeaseCluster;

namespace Flannel.Actors.Tests.Leases;

/// <summary>Whole in-process clusters on 127.0.0.1: acquisition, replication, expiry, release, restart, exhaustion.</summary>
public sealed class LeaseClusterTests : TestKit
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public async Task Nodes_starting_together_get_distinct_subnets_and_all_see_every_lease(int count)
    {
        await using var cluster = new LeaseCluster();
        await cluster.StartAsync(count);

        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));

        Assert.Equal(count, leases.Select(l => l.Subnet).Distinct().Count());
        Assert.All(leases, l => Assert.True(DefaultConf.Fits(l.Subnet), $"{l.Subnet} does not fit"));
        Assert.Equal(cluster.Nodes.Select(n => n.Name), leases.Select(l => l.Node));
        await AllSee(cluster, leases);
    }

    [Fact]
    public async Task A_node_that_leaves_keeps_its_lease_until_it_expires_then_every_node_sees_it_removed()
    {
        // Short TTL: the remaining nodes renew (margin 1.5 s of 3 s), the departed node's lease is collected.
        await using var cluster = new LeaseCluster(ttl: TimeSpan.FromSeconds(3), renewMargin: TimeSpan.FromSeconds(1.5));
        await cluster.StartAsync(3);
        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));
        await AllSee(cluster, leases);
        var watchers = cluster.Nodes.Take(2).Select(n => (Node: n, Probe: CreateTestProbe(n.System))).ToList();
        foreach (var (node, probe) in watchers) node.Leases.Tell(new SubscribeLeases(probe.Ref));

        var gone = cluster[2];
        await StopAsync(gone);

        // Still there right after leaving (the departed node gets it back if it returns before expiry).
        var table = await TableAsync(cluster[0]);
        Assert.Equal(gone.Name, table[leases[2].Subnet].Node);

        foreach (var (node, probe) in watchers)
        {
            // The last entry seen for the subnet before a snapshot without it: the one that was removed.
            var last = leases[2];
            probe.FishForMessage<LeaseSnapshot>(m =>
            {
                if (m is not LeaseSnapshot t) return false;
                if (!t.Leases.TryGetValue(leases[2].Subnet, out var l)) return true;
                last = l;
                return false;
            }, TimeSpan.FromSeconds(10));
            Assert.Equal(gone.Name, last.Node);
            Assert.True(DateTimeOffset.UtcNow >= last.Expiration, "removed before it expired");
        }
        // The live nodes renewed theirs meanwhile and kept them.
        await AllSee(cluster, leases.Take(2).ToList());
        var renewed = await TableAsync(cluster[0]);
        Assert.All(leases.Take(2), l => Assert.True(renewed[l.Subnet].Version > l.Version, $"{l.Subnet} was not renewed"));
    }

    [Fact]
    public async Task An_explicit_release_frees_a_lease_at_once_on_every_node()
    {
        await using var cluster = new LeaseCluster();
        await cluster.StartAsync(3);
        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));
        await AllSee(cluster, leases);
        var gone = cluster[2];
        await StopAsync(gone);

        var reply = await Ask(cluster[1], new ReleaseLease(leases[2].Subnet, ReleaseKind.Operator));

        Assert.Equal(new LeaseReleased(leases[2].Subnet), reply);
        await AllSee(cluster, leases.Take(2).ToList());
    }

    [Fact]
    public async Task A_restarted_node_with_the_same_name_and_public_ip_gets_the_same_subnet()
    {
        await using var cluster = new LeaseCluster();
        await cluster.StartAsync(3);
        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));
        await AllSee(cluster, leases);

        await StopAsync(cluster[2]);
        await cluster.WaitUpAsync(2, Converge);
        var restarted = cluster.Start(2, cluster[0].Address);
        await cluster.WaitUpAsync(3, Converge);
        var again = await AcquireAsync(restarted);

        Assert.Equal(leases[2].Subnet, again.Subnet);
        Assert.True(again.Version > leases[2].Version);
        await AllSee(cluster, [leases[0], leases[1], again]);
    }

    [Fact]
    public async Task A_new_node_prefers_the_previous_subnet_from_subnet_env_when_free()
    {
        await using var cluster = new LeaseCluster();
        await cluster.StartAsync(2);
        var previous = IPNetwork.Parse("10.244.77.0/24");
        var node = cluster.Start(2, cluster[0].Address, previousSubnet: previous);
        await cluster.WaitUpAsync(3, Converge);

        Assert.Equal(previous, (await AcquireAsync(node)).Subnet);
    }

    [Fact]
    public async Task Exhaustion_gives_a_clear_error_naming_network_subnetlen_and_count()
    {
        // Two subnets for three nodes.
        var conf = NetConf.Parse("""{"Network":"10.10.0.0/28","SubnetLen":30,"SubnetMax":"10.10.0.8"}""");
        await using var cluster = new LeaseCluster(conf);
        await cluster.StartAsync(3);

        var replies = await Task.WhenAll(cluster.Nodes.Select(n => Ask(n, AcquireLease.Instance)));

        Assert.Equal(2, replies.OfType<LeaseAcquired>().Select(a => a.Lease.Subnet).Distinct().Count());
        var failed = Assert.Single(replies.OfType<LeaseAcquireFailed>());
        Assert.Equal("out of subnets: Network 10.10.0.0/28, SubnetLen 30: 2 of 2 subnets (10.10.0.4..10.10.0.8) in use", failed.Reason);
    }

    [Fact]
    public async Task A_backend_update_is_re_advertised_to_every_node()
    {
        await using var cluster = new LeaseCluster();
        await cluster.StartAsync(3);
        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));
        await AllSee(cluster, leases);
        var probe = CreateTestProbe(cluster[2].System);
        cluster[2].Leases.Tell(new SubscribeLeases(probe.Ref));
        probe.ExpectMsg<LeaseSnapshot>();

        var reply = Assert.IsType<BackendUpdated>(await Ask(cluster[0], new UpdateBackend("host-gw", null)));

        Assert.Equal(leases[0].Subnet, reply.Lease.Subnet);
        Assert.Equal("host-gw", reply.Lease.BackendType);
        Assert.Null(reply.Lease.BackendData);
        probe.FishForMessage<LeaseSnapshot>(m => m is LeaseSnapshot t && t.Leases.TryGetValue(leases[0].Subnet, out var l)
                                                 && l.BackendType == "host-gw" && l.BackendData is null, Converge);
    }

    [Fact]
    public async Task A_node_that_finds_its_subnet_taken_by_another_node_takes_a_new_one_and_says_so()
    {
        await using var cluster = new LeaseCluster();
        await cluster.StartAsync(3);
        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));
        await AllSee(cluster, leases);
        var victim = cluster[1];
        var probe = CreateTestProbe(victim.System);
        victim.Leases.Tell(new SubscribeLeases(probe.Ref, OwnLeaseEvents: true));
        probe.ExpectMsg<LeaseSnapshot>();

        // A rogue concurrent write (what a second allocator in a split cluster would do): another node on our subnet.
        var ext = LeaseAllocatorExtension.Get(cluster[2].System);
        var rogue = leases[1] with { Node = "intruder", PublicIp = IPAddress.Parse("192.0.2.200"), Version = leases[1].Version + 1 };
        var self = Akka.Cluster.Cluster.Get(cluster[2].System).SelfUniqueAddress;
        var written = await ext.Replicator.Ask<object>(Akka.DistributedData.Dsl.Update(ext.Key,
            Akka.DistributedData.LWWDictionary<string, Lease>.Empty, Akka.DistributedData.WriteLocal.Instance,
            d => d.SetItem(self, rogue.Subnet.ToString(), rogue)), Converge);
        Assert.IsType<Akka.DistributedData.UpdateSuccess>(written);

        var changed = probe.FishForMessage<OwnLeaseChanged>(m => m is OwnLeaseChanged, Converge);
        Assert.Equal(leases[1].Subnet, changed.Old!.Subnet);
        Assert.NotEqual(leases[1].Subnet, changed.New.Subnet);
        Assert.Contains("lost 10.244.", changed.Reason);
        Assert.Contains("to node intruder", changed.Reason);
        var own = (OwnLease)await Ask(victim, GetOwnLease.Instance);
        Assert.Equal(changed.New, own.Lease);
        await Poll.UntilAsync(async () =>
        {
            var table = await TableAsync(cluster[0]);
            return table.TryGetValue(changed.New.Subnet, out var l) && l.Node == victim.Name
                && table.Values.GroupBy(x => x.Node).All(g => g.Key == "intruder" || g.Count() == 1);
        }, Converge, "the new lease replicated");
    }

    private static async Task AllSee(LeaseCluster cluster, IReadOnlyCollection<Lease> leases)
    {
        var expected = leases.ToDictionary(l => l.Subnet, l => l.Node);
        foreach (var node in cluster.Nodes.Where(n => !n.IsTerminated))
        {
            await Poll.UntilAsync(async () =>
            {
                var table = await TableAsync(node);
                return table.Count == expected.Count && expected.All(e => table.TryGetValue(e.Key, out var l) && l.Node == e.Value);
            }, Converge, $"{node.Name} sees {string.Join(", ", expected.Keys)}");
        }
    }
}
