using System.Diagnostics.Metrics;
using System.Net;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Akka.DistributedData;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Leases;
using Flannel.Actors.Observability;
using Flannel.Net.Config;
using Flannel.Testing;
using Xunit;

namespace Flannel.Actors.Tests.Leases;

/// <summary>
/// The allocator actor with a probe as its replicator, so each round's read and write is answered by the test: the
/// queue caps, anonymous requests and a corrupt table, deterministically and without a cluster of several nodes.
/// </summary>
public sealed class LeaseAllocatorActorTests : TestKit
{
    private static readonly NetConf Conf = NetConf.Parse("""{"Network":"10.244.0.0/16"}""");
    private static readonly RecordingLoggerFactory Events = new();
    private readonly LWWDictionaryKey<string, Lease> _key = new("test-leases");
    private readonly TestProbe _replicator;

    public LeaseAllocatorActorTests() : base(BootstrapSetup.Create()
        .WithConfig(ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka.loglevel = WARNING
            """).WithFallback(LeaseConfig.Default))
        .And(new FlannelLoggingSetup(Events)))
    {
        _replicator = CreateTestProbe();
    }

    private string SelfAddress => Cluster.Get(Sys).SelfAddress.ToString();

    private IActorRef Start(int maxPerSender = 4, int maxQueued = 1024)
    {
        var settings = LeaseAllocatorSettings.Create(Sys) with { MaxQueuedPerSender = maxPerSender, MaxQueued = maxQueued };
        return Sys.ActorOf(LeaseAllocatorActor.Props(settings, new LeaseAllocatorSetup(Conf), _replicator.Ref, _key));
    }

    private static ClaimRequest Claim(long id, string node = "a") =>
        new(id, new LeaseClaim(node, IPAddress.Parse("192.0.2.1"), "vxlan", null, null, null, Conf, TimeSpan.FromHours(1)));

    /// <summary>Answers one round: the read with <paramref name="table"/> (empty: NotFound), then the write.</summary>
    private void AnswerRound(LWWDictionary<string, Lease>? table = null)
    {
        _replicator.ExpectMsg<Get>(TimeSpan.FromSeconds(3));
        _replicator.Reply(table is null ? new NotFound(_key, null) : new GetSuccess(_key, null, table));
        _replicator.ExpectMsg<Update>(TimeSpan.FromSeconds(3));
        _replicator.Reply(new UpdateSuccess(_key, null));
    }

    private static (MeterListener Listener, List<string> Reasons) ListenRefusals()
    {
        var reasons = new List<string>();
        _ = FlannelInstruments.LeaseRequestsRefused; // created (and published) before the listener starts
        var listener = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (ReferenceEquals(i, FlannelInstruments.LeaseRequestsRefused)) l.EnableMeasurementEvents(i);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var t in tags)
                if (t.Key == "reason") lock (reasons) reasons.Add((string)t.Value!);
        });
        listener.Start();
        return (listener, reasons);
    }

    [Fact]
    public void Requests_beyond_the_per_sender_cap_are_refused_transiently_counted_and_logged_once()
    {
        var (listener, reasons) = ListenRefusals();
        using var _ = listener;
        var allocator = Start(maxPerSender: 4);
        var node = CreateTestProbe();

        for (var id = 1; id <= 6; id++) allocator.Tell(Claim(id), node.Ref);

        // One in the round (waiting for the read) and three queued: the fifth and sixth are refused at once.
        var refused = new[] { node.ExpectMsg<ClaimRefused>(), node.ExpectMsg<ClaimRefused>() };
        Assert.Equal([5L, 6L], refused.Select(r => r.RequestId));
        Assert.All(refused, r =>
        {
            Assert.False(r.Permanent);
            Assert.Equal($"too many requests queued from {SelfAddress} (4, cap flannel.leases.max-queued-per-sender = 4)", r.Reason);
        });
        lock (reasons) Assert.Equal(2, reasons.Count(r => r == "sender-queue-full"));
        Assert.Single(Events.WithId(4046), e => e.Field("From") == SelfAddress);

        // The admitted four are answered; then the sender may queue again.
        AnswerRound();
        Assert.Equal(1, node.ExpectMsg<ClaimGranted>().RequestId);
        AnswerRound();
        Assert.Equal([2L, 3L, 4L], Enumerable.Range(0, 3).Select(_ => node.ExpectMsg<ClaimGranted>().RequestId));
        allocator.Tell(Claim(7), node.Ref);
        AnswerRound();
        Assert.Equal(7, node.ExpectMsg<ClaimGranted>().RequestId);
    }

    [Fact]
    public void Requests_beyond_the_total_cap_are_refused_transiently()
    {
        var (listener, reasons) = ListenRefusals();
        using var _ = listener;
        var allocator = Start(maxPerSender: 100, maxQueued: 3);
        var node = CreateTestProbe();

        for (var id = 1; id <= 4; id++) allocator.Tell(Claim(id, $"n{id}"), node.Ref);

        var refused = node.ExpectMsg<ClaimRefused>();
        Assert.Equal((4L, false), (refused.RequestId, refused.Permanent));
        Assert.Equal("the lease allocator has 3 requests queued (cap flannel.leases.max-queued = 3)", refused.Reason);
        lock (reasons) Assert.Contains("queue-full", reasons);
        AnswerRound();
        node.ExpectMsg<ClaimGranted>();
    }

    [Fact]
    public void A_request_without_a_sender_is_dropped_and_logged()
    {
        var allocator = Start();
        var before = Events.WithId(4048).Count;

        allocator.Tell(Claim(1), ActorRefs.NoSender);

        _replicator.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        AwaitCondition(() => Events.WithId(4048).Count > before, TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void Two_entries_for_one_subnet_do_not_crash_the_allocator_the_canonical_one_counts_and_strays_are_removed()
    {
        var allocator = Start();
        var node = CreateTestProbe();
        var self = Cluster.Get(Sys).SelfUniqueAddress;
        Lease L(string subnet, long version, string owner) => new(IPNetwork.Parse(subnet), "a", IPAddress.Parse("192.0.2.1"), "vxlan",
            null, DateTimeOffset.UtcNow.AddHours(1), version, owner);
        // Keys the allocator never writes: a second spelling of 10.244.7.0/24 (with a higher version, so "newest wins"
        // would pick it), and the only entry of node b's 10.244.8.0/24 under a foreign key.
        var table = LWWDictionary<string, Lease>.Empty
            .SetItem(self, "10.244.7.0/24", L("10.244.7.0/24", 3, SelfAddress))
            .SetItem(self, "10.244.007.0/24", L("10.244.7.0/24", long.MaxValue, SelfAddress))
            .SetItem(self, "x", L("10.244.8.0/24", 5, "akka.tcp://flannel@192.0.2.2:4053") with { Node = "b" });

        allocator.Tell(Claim(1), node.Ref);
        _replicator.ExpectMsg<Get>(TimeSpan.FromSeconds(3));
        _replicator.Reply(new GetSuccess(_key, null, table));
        var update = _replicator.ExpectMsg<Update>(TimeSpan.FromSeconds(3));
        var after = (LWWDictionary<string, Lease>)update.Modify(table);
        _replicator.Reply(new UpdateSuccess(_key, null));

        // The same rule as every node's (LeasePrecedence): the entry under the subnet's own key.
        var granted = node.ExpectMsg<ClaimGranted>();
        Assert.Equal((IPNetwork.Parse("10.244.7.0/24"), 4L), (granted.Lease.Subnet, granted.Lease.Version));
        Assert.Equal(SelfAddress, granted.Lease.Owner);
        Assert.Equal(["10.244.7.0/24", "10.244.8.0/24"], after.Entries.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("b", 5L), (after["10.244.8.0/24"].Node, after["10.244.8.0/24"].Version));
    }
}
