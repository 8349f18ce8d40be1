using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
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

    private static async Task AllSee(LeaseCluster cluster, IReadOnlyCollection<Lease> leases)
    {
        var expected = leases.ToDictionary(l => l.Subnet, l => l.Node);
        foreach (var node in cluster.Nodes.Where(n => !n.IsTerminated))
        {
            await Eventually(async () =>
            {
                var table = await TableAsync(node);
                return table.Count == expected.Count && expected.All(e => table.TryGetValue(e.Key, out var l) && l.Node == e.Value);
            }, Converge, $"{node.Name} sees {string.Join(", ", expected.Keys)}");
        }
    }
}
