using Akka.TestKit.Xunit2;
using Flannel.Testing;
using Flannel.Actors.Leases;
using Xunit;
using static Flannel.Actors.Tests.Leases.LeaseCluster;

namespace Flannel.Actors.Tests.Leases;

/// <summary>
/// Network partitions between groups of in-process nodes, made with Akka.Remote's throttler adapter (Blackhole):
/// only a side that can reach a majority hands out subnets, and healing never produces two owners of a subnet.
/// </summary>
public sealed class LeasePartitionTests : TestKit
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task The_majority_keeps_allocating_the_minority_refuses_and_after_healing_there_are_no_duplicates()
    {
        // The split-brain resolver stays out of this one (stable-after 60 s): the partition heals before it acts.
        await using var cluster = new LeaseCluster(stableAfter: TimeSpan.FromSeconds(60));
        await cluster.StartAsync(5);
        var early = await Task.WhenAll(new[] { cluster[0], cluster[1] }.Select(AcquireAsync));
        var majority = new[] { cluster[0], cluster[1], cluster[2] };
        var minority = new[] { cluster[3], cluster[4] };

        await Partition(majority, minority);
        var waiting = minority.Select(n => (Node: n, Probe: CreateTestProbe(n.System))).ToList();
        foreach (var (node, probe) in waiting) node.Leases.Tell(AcquireLease.Instance, probe.Ref);

        var during = await AcquireAsync(cluster[2]);
        Assert.DoesNotContain(during.Subnet, early.Select(l => l.Subnet));

        // The minority cannot reach a majority (the allocator is on the other side): no lease, no answer yet.
        waiting[0].Probe.ExpectNoMsg(TimeSpan.FromSeconds(3));
        waiting[1].Probe.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        foreach (var (node, _) in waiting) Assert.Null(((OwnLease)await Ask(node, GetOwnLease.Instance)).Lease);

        await Partition(majority, minority, heal: true);
        var late = waiting.Select(w => w.Probe.ExpectMsg<LeaseAcquired>(Converge).Lease).ToList();

        var all = early.Concat([during]).Concat(late).ToList();
        Assert.Equal(5, all.Select(l => l.Subnet).Distinct().Count());
        await AllSeeExactly(cluster, all);
    }

    [Fact]
    public async Task When_the_allocator_is_on_the_minority_side_it_refuses_SBR_downs_that_side_and_the_majority_takes_over()
    {
        await using var cluster = new LeaseCluster(stableAfter: TimeSpan.FromSeconds(2));
        await cluster.StartAsync(5);
        var early = await Task.WhenAll(new[] { cluster[0], cluster[1], cluster[2] }.Select(AcquireAsync));
        var minority = new[] { cluster[0], cluster[1] }; // node 0 is the oldest: it hosts the allocator
        var majority = new[] { cluster[2], cluster[3], cluster[4] };

        await Partition(minority, majority);

        // The allocator is still on the minority side, but cannot read from a majority: it refuses to change anything.
        var refused = Assert.IsType<LeaseReleaseFailed>(await Ask(cluster[1], new ReleaseLease(early[2].Subnet, ReleaseKind.Operator)));
        Assert.StartsWith("no majority", refused.Reason);

        // The majority side downs the minority (keep-majority), the allocator moves to node 2, and allocation goes on.
        var during = await AcquireAsync(cluster[3]);
        Assert.DoesNotContain(during.Subnet, early.Select(l => l.Subnet));
        await Poll.UntilAsync(() => minority.All(n => n.IsTerminated), Converge, "the minority downed itself");

        // The downed nodes come back as new incarnations and get their old subnets (their leases did not expire).
        var back = new[] { cluster.Start(0, cluster[2].Address), cluster.Start(1, cluster[2].Address) };
        await cluster.WaitUpAsync(5, Converge);
        var returned = await Task.WhenAll(back.Select(AcquireAsync));
        Assert.Equal(early[0].Subnet, returned[0].Subnet);
        Assert.Equal(early[1].Subnet, returned[1].Subnet);
        var last = await AcquireAsync(cluster[4]);

        var all = returned.Concat([early[2], during, last]).ToList();
        Assert.Equal(5, all.Select(l => l.Subnet).Distinct().Count());
        await AllSeeExactly(cluster, all);
    }

    private static async Task AllSeeExactly(LeaseCluster cluster, IReadOnlyCollection<Lease> leases)
    {
        var expected = leases.ToDictionary(l => l.Subnet, l => l.Node);
        foreach (var node in cluster.Nodes)
        {
            await Poll.UntilAsync(async () =>
            {
                var table = await TableAsync(node);
                return table.Count == expected.Count && expected.All(e => table.TryGetValue(e.Key, out var l) && l.Node == e.Value);
            }, Converge, $"{node.Name} sees exactly {string.Join(", ", expected.Select(e => $"{e.Key}={e.Value}"))}");
        }
    }
}
