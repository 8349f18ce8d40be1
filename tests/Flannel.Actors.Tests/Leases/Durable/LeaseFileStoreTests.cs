using System.Buffers.Binary;
using System.Net;
using Akka.Actor;
using Akka.DistributedData;
using Akka.DistributedData.Durable;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Leases;
using Flannel.Actors.Leases.Durable;
using Flannel.Actors.Observability;
using Flannel.Net.Config;
using Flannel.Testing;
using Xunit;
using static Flannel.Actors.Tests.Leases.LeaseCluster;

namespace Flannel.Actors.Tests.Leases.Durable;

/// <summary>
/// The durable store in in-process clusters: each node has its own file, and a node "restarted" is a new ActorSystem
/// in this process reading that file (the same handoff as an agent that restarts its actor system).
/// </summary>
public sealed class LeaseFileStoreTests : TestKit, IDisposable
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(15);
    // Four subnets: three nodes hold three, so a new node has exactly one left unless it may take a down node's.
    private static readonly NetConf FourSubnets = NetConf.Parse(
        """{"Network":"10.244.0.0/16","SubnetLen":24,"SubnetMin":"10.244.1.0","SubnetMax":"10.244.4.0","Backend":{"Type":"vxlan"}}""");

    private readonly string _dir = Directory.CreateTempSubdirectory("flannel-lease-store-").FullName;
    private readonly RecordingLoggerFactory _log = new();

    private string StoreOf(int index) => Path.Combine(_dir, $"node-{index}", "leases");

    private LeaseCluster DurableCluster(NetConf? conf = null) => new(conf ?? FourSubnets, loggers: _log, nodeHocon: i => $$"""
        akka.cluster.distributed-data.durable {
          keys = ["flannel-leases"]
          file.path = "{{StoreOf(i)}}"
        }
        """);

    /// <summary>The lease table a store file holds, read with <paramref name="system"/>'s serializers.</summary>
    private static IReadOnlyDictionary<string, Lease> Stored(ActorSystem system, string file)
    {
        if (!File.Exists(file)) return new Dictionary<string, Lease>();
        var entry = LeaseStoreFormat.Decode(File.ReadAllBytes(file)).Single(e => e.Key == "flannel-leases");
        var envelope = (DurableDataEnvelope)system.Serialization.Deserialize(entry.Data, entry.SerializerId, entry.Manifest);
        return ((LWWDictionary<string, Lease>)envelope.Data).Entries;
    }

    [Fact]
    public async Task Leases_outlive_a_restart_of_every_node_and_a_node_still_down_keeps_its_subnet()
    {
        Lease[] before;
        await using (var first = DurableCluster())
        {
            await first.StartAsync(3);
            before = await Task.WhenAll(first.Nodes.Select(AcquireAsync));
            Assert.Equal(3, before.Select(l => l.Subnet).Distinct().Count());
            // Every node's file holds every lease before the systems go (the stores write as the table changes).
            foreach (var n in first.Nodes)
                await Poll.UntilAsync(() => Stored(n.System, StoreOf(n.Index)).Count == 3, Converge, $"{n.Name}'s store holds 3 leases");
        }
        Assert.NotEmpty(_log.WithId(EventIds.LeaseStoreEmpty));

        // Every node was stopped. Nodes 0 and 1 come back; node 2 stays down.
        await using var second = DurableCluster();
        var seed = second.Start(0, seed: null);
        second.Start(1, seed.Address);
        await second.WaitUpAsync(2, Converge);
        Assert.Equal(2, _log.WithId(EventIds.LeaseStoreLoaded).Count);

        // Node 2's lease is there before anyone claims anything: the restarted nodes loaded it from disk.
        var table = await MajorityTableAsync(second[0]);
        Assert.Equal(before[2].Node, table[before[2].Subnet].Node);
        Assert.Equal(before[2].Expiration, table[before[2].Subnet].Expiration);

        // A new node gets the one free subnet, never node 2's.
        var newcomer = second.Start(3, seed.Address);
        await second.WaitUpAsync(3, Converge);
        var fresh = await AcquireAsync(newcomer);
        Assert.DoesNotContain(fresh.Subnet, before.Select(l => l.Subnet));

        // The restarted nodes and, when it returns, node 2 get their own subnets back.
        Assert.Equal(before[0].Subnet, (await AcquireAsync(second[0])).Subnet);
        Assert.Equal(before[1].Subnet, (await AcquireAsync(second[1])).Subnet);
        var returning = second.Start(2, seed.Address);
        await second.WaitUpAsync(4, Converge);
        Assert.Equal(before[2].Subnet, (await AcquireAsync(returning)).Subnet);
        Assert.Empty(_log.WithId(EventIds.LeaseStoreUnusable));
    }

    public static TheoryData<string, string> BadFiles => new()
    {
        { "garbage", "not a flannel lease store" },
        { "truncated", "truncated: " },
        { "empty", "the file is empty" },
        { "version", "format version 9; this flanneld reads version 1" },
        { "flipped", "checksum mismatch" },
        { "undeserializable", "cannot be deserialized" },
        { "foreign-serializer", "was written by serializer 4711" },
    };

    /// <summary>Akka.DistributedData's ReplicatorMessageSerializer (its reference.conf), manifest "P" = DurableDataEnvelope.</summary>
    private const int ReplicatorMessageSerializerId = 12;

    private static byte[] BadFile(string kind)
    {
        var valid = LeaseStoreFormat.Encode([new StoredEntry("flannel-leases", ReplicatorMessageSerializerId, "P", new byte[64])]);
        switch (kind)
        {
            case "garbage": return "FLANNEL_SUBNET=10.244.1.1/24\n"u8.ToArray();
            case "truncated": return valid[..^7];
            case "empty": return [];
            case "version":
                BinaryPrimitives.WriteUInt32LittleEndian(valid.AsSpan(8), 9);
                return valid;
            case "flipped":
                valid[30] ^= 1;
                return valid;
            case "undeserializable":
                // A valid file whose envelope bytes are not protobuf Akka can read.
                return LeaseStoreFormat.Encode([new StoredEntry("flannel-leases", ReplicatorMessageSerializerId, "P", [0xff, 0xff, 0xff, 0x01, 0x02])]);
            case "foreign-serializer":
                return LeaseStoreFormat.Encode([new StoredEntry("flannel-leases", 4711, "L", [1, 2, 3])]);
            default: throw new ArgumentException(kind);
        }
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_corrupt_store_is_named_with_its_problem_set_aside_and_the_node_works_from_the_cluster_state(string kind, string problem)
    {
        var file = StoreOf(0);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var bad = BadFile(kind);
        File.WriteAllBytes(file, bad);

        await using var cluster = DurableCluster();
        await cluster.StartAsync(2);
        var leases = await Task.WhenAll(cluster.Nodes.Select(AcquireAsync));

        var unusable = Assert.Single(_log.WithId(EventIds.LeaseStoreUnusable));
        Assert.Contains(file, unusable.Message);
        Assert.Contains(problem, unusable.Message);
        Assert.Equal(bad, File.ReadAllBytes(file + ".corrupt"));
        // The node replaced the bad file with the cluster's table.
        await Poll.UntilAsync(() => Stored(cluster[0].System, file).Count == 2, Converge, "node 0's store holds both leases");
        Assert.Equal(leases.Select(l => l.Subnet.ToString()).Order(), Stored(cluster[0].System, file).Values.Select(l => l.Subnet.ToString()).Order());
    }

    [Fact]
    public async Task A_store_that_cannot_be_written_refuses_to_acknowledge_and_says_why_then_recovers()
    {
        // The store's directory is a file: every write fails until it is removed.
        var blocker = Path.Combine(_dir, "node-0");
        File.WriteAllText(blocker, "not a directory");
        await using var cluster = DurableCluster();
        var node = cluster.Start(0, seed: null);
        await cluster.WaitUpAsync(1, Converge);

        var waiter = CreateTestProbe(node.System);
        node.Leases.Tell(AcquireLease.Instance, waiter.Ref);
        await Poll.UntilAsync(() => _log.WithId(EventIds.LeaseStoreWriteFailed).Count > 0, Converge, "the store reports the failed write");
        Assert.Contains(StoreOf(0), _log.WithId(EventIds.LeaseStoreWriteFailed)[0].Message);
        // Logged once per episode, however often the allocator retries; and no lease while it cannot be stored.
        waiter.ExpectNoMsg(TimeSpan.FromSeconds(2));
        Assert.Single(_log.WithId(EventIds.LeaseStoreWriteFailed));

        File.Delete(blocker);
        var lease = waiter.ExpectMsg<LeaseAcquired>(Converge).Lease;
        await Poll.UntilAsync(() => _log.WithId(EventIds.LeaseStoreWriteRecovered).Count == 1, Converge, "the store says it writes again");
        Assert.Equal(lease.Subnet, Assert.Single(Stored(node.System, StoreOf(0))).Value.Subnet);
    }

    public new void Dispose()
    {
        base.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
