using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.DistributedData;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Leases;
using Xunit;
using Xunit.Abstractions;
using static Flannel.Actors.Tests.Leases.LeaseCluster;

namespace Flannel.Actors.Tests.Leases;

/// <summary>
/// Issue #11 T4: whatever a member writes into the replicated map, the lease actor keeps working: two entries for one
/// subnet, a version at long.MaxValue, a large table. Before, two keys with one subnet threw in OnTable and the actor
/// restarted forever (losing its subscribers each time).
/// </summary>
public sealed class SubnetLeaseActorTableTests(ITestOutputHelper output) : TestKit
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(20);

    private static async Task Write(LeaseNode node, Func<LWWDictionary<string, Lease>, Akka.Cluster.UniqueAddress, LWWDictionary<string, Lease>> change)
    {
        var ext = LeaseAllocatorExtension.Get(node.System);
        var self = Akka.Cluster.Cluster.Get(node.System).SelfUniqueAddress;
        var written = await ext.Replicator.Ask<object>(Dsl.Update(ext.Key, LWWDictionary<string, Lease>.Empty, WriteLocal.Instance,
            d => change(d, self)), Converge);
        Assert.IsType<UpdateSuccess>(written);
    }

    /// <summary>A one-node cluster whose node holds its lease, and a probe subscribed to its table (snapshot consumed).</summary>
    private async Task<(LeaseNode Node, Lease Own, Akka.TestKit.TestProbe Probe)> OneSubscribedNodeAsync(LeaseCluster cluster)
    {
        await cluster.StartAsync(1);
        var node = cluster[0];
        var own = await AcquireAsync(node);
        var probe = CreateTestProbe(node.System);
        node.Leases.Tell(new SubscribeLeases(probe.Ref));
        probe.ExpectMsg<LeaseSnapshot>();
        return (node, own, probe);
    }

    private static Lease Rogue(string subnet, string node, long version) =>
        new(IPNetwork.Parse(subnet), node, IPAddress.Parse("192.0.2.66"), "vxlan", null, DateTimeOffset.UtcNow.AddHours(1), version);

    [Fact]
    public async Task Duplicate_subnets_and_a_max_version_neither_crash_nor_restart_the_actor()
    {
        await using var cluster = new LeaseCluster();
        var (node, own, probe) = await OneSubscribedNodeAsync(cluster);

        var first = Rogue("10.244.200.0/24", "x", 1);
        var second = Rogue("10.244.200.0/24", "y", long.MaxValue);
        await Write(node, (d, self) => d.SetItem(self, "10.244.200.0/24", first).SetItem(self, "other-key", second)
            .SetItem(self, "10.244.201.0/24", Rogue("10.244.201.0/24", "z", long.MaxValue)));

        // The subscription survived (a restarted actor forgets its subscribers) and the table holds one entry per subnet.
        var snapshot = probe.FishForMessage<LeaseSnapshot>(s => s is LeaseSnapshot ls && ls.Leases.Count == 3, Converge);
        Assert.Equal("x", snapshot.Leases[IPNetwork.Parse("10.244.200.0/24")].Node);
        Assert.Equal(long.MaxValue, snapshot.Leases[IPNetwork.Parse("10.244.201.0/24")].Version);
        Assert.Equal(own, ((OwnLease)await Ask(node, GetOwnLease.Instance)).Lease);

        // And it keeps following changes.
        await Write(node, (d, self) => d.Remove(self, "10.244.201.0/24"));
        probe.FishForMessage<LeaseSnapshot>(m => m is LeaseSnapshot t && !t.Leases.ContainsKey(IPNetwork.Parse("10.244.201.0/24")), Converge);
    }

    [Fact]
    public async Task An_own_lease_rewritten_by_someone_else_is_restored_at_once()
    {
        await using var cluster = new LeaseCluster();
        var (node, own, probe) = await OneSubscribedNodeAsync(cluster);

        // What a forged renewal (a member sending a claim with this node's address) or a direct write leaves: our node
        // name, a newer version, and another public IP, so every peer would send our subnet's traffic there.
        var forged = own with { PublicIp = IPAddress.Parse("192.0.2.66"), Version = own.Version + 5 };
        await Write(node, (d, self) => d.SetItem(self, own.Subnet.ToString(), forged));

        var restored = probe.FishForMessage<LeaseSnapshot>(
            m => m is LeaseSnapshot t && t.Leases.TryGetValue(own.Subnet, out var l) && l.Version > forged.Version, Converge).Leases[own.Subnet];
        Assert.Equal((own.Node, own.PublicIp, own.BackendType, own.Owner), (restored.Node, restored.PublicIp, restored.BackendType, restored.Owner));
        Assert.Equal(restored, ((OwnLease)await Ask(node, GetOwnLease.Instance)).Lease);
    }

    private const int Count = 20_000;

    [Fact]
    public async Task A_table_of_20000_entries_is_mirrored_without_stalling_the_actor()
    {
        await using var cluster = new LeaseCluster();
        var (node, _, probe) = await OneSubscribedNodeAsync(cluster);

        // The map as a Changed notification would carry it: /32s inside and outside the network, versions at
        // long.MaxValue, and entries whose key does not match their subnet. Akka's LWWDictionary takes quadratic time to
        // build (100,000 entries: over 3 minutes here), so the actor test uses 20,000; one OnTable of 100,000 measured
        // 0.8 s (LeasePrecedenceTests covers the pure part at 100,000).
        var self = Akka.Cluster.Cluster.Get(node.System).SelfUniqueAddress;
        var items = Enumerable.Range(0, Count).Select(i =>
        {
            var subnet = $"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}/32";
            return (self, i % 10 == 0 ? $"k{i}" : subnet, Rogue(subnet, $"n{i}", i % 7 == 0 ? long.MaxValue : i));
        }).ToArray();
        var map = LWWDictionary.Create(items);
        var ext = LeaseAllocatorExtension.Get(node.System);

        var sw = Stopwatch.StartNew();
        node.Leases.Tell(new Changed(ext.Key, map));
        var snapshot = probe.FishForMessage<LeaseSnapshot>(m => m is LeaseSnapshot s && s.Leases.Count >= Count, Converge);
        var mirrored = sw.Elapsed;
        sw.Restart();
        await Ask(node, GetOwnLease.Instance, TimeSpan.FromSeconds(5));
        var answered = sw.Elapsed;
        output.WriteLine($"one OnTable of {Count} entries: snapshot after {mirrored.TotalMilliseconds:F0} ms, next answer after {answered.TotalMilliseconds:F0} ms more");
        Assert.Equal(Count, snapshot.Leases.Count);
        Assert.True(mirrored < TimeSpan.FromSeconds(5), $"mirroring took {mirrored}");
        Assert.True(answered < TimeSpan.FromSeconds(5), $"the next answer took {answered}");
    }
}
