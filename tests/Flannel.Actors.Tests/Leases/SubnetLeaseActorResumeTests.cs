using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Leases;
using Xunit;
using static Flannel.Actors.Tests.Leases.LeaseCluster;

namespace Flannel.Actors.Tests.Leases;

/// <summary>
/// Issue #13: a rejoining incarnation's lease actor serves the table the previous incarnation last saw until the
/// replicated one arrives, so the route programmer resumes from it instead of from an empty table (which would remove
/// every peer from the kernel and the udp tunnel while the node is still cut off).
/// </summary>
public sealed class SubnetLeaseActorResumeTests : TestKit
{
    private static Lease Peer(string subnet, string node, string ip) =>
        new(IPNetwork.Parse(subnet), node, IPAddress.Parse(ip), "udp", null, DateTimeOffset.UtcNow.AddHours(1), 3);

    /// <summary>A cluster member that joins nobody: like a node cut off from its cluster, no replicated table arrives.</summary>
    private static (ActorSystem System, IActorRef Leases) StartUnjoined(IReadOnlyCollection<Lease> lastKnown)
    {
        var system = ActorSystem.Create(SystemName, new LeaseCluster().Setup());
        var options = new LeaseOptions("node-9", IPAddress.Parse("192.0.2.9"), DefaultConf, "udp", null, null, null,
            LeaseOptions.DefaultTtl, LeaseOptions.DefaultRenewMargin) { LastKnownTable = lastKnown };
        return (system, system.ActorOf(SubnetLeaseActor.Props(options), "subnet-lease"));
    }

    [Fact]
    public async Task A_resumed_lease_actor_serves_the_last_known_table_to_subscribers_before_any_replica_answers()
    {
        var last = new[] { Peer("10.244.1.0/24", "node-1", "192.0.2.1"), Peer("10.244.2.0/24", "node-2", "192.0.2.2") };
        var (system, leases) = StartUnjoined(last);
        try
        {

            var probe = CreateTestProbe();
            leases.Tell(new SubscribeLeases(probe.Ref));
            var snapshot = probe.ExpectMsg<LeaseSnapshot>();
            Assert.Equal(last.OrderBy(l => l.Subnet.ToString()), snapshot.Leases.Values.OrderBy(l => l.Subnet.ToString()));
            // Nothing replaces it while no replica answers, and no lease is taken without a majority.
            leases.Tell(AcquireLease.Instance, probe.Ref);
            probe.ExpectNoMsg(TimeSpan.FromSeconds(2));
            Assert.Null((await leases.Ask<OwnLease>(GetOwnLease.Instance, TimeSpan.FromSeconds(5))).Lease);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_first_start_begins_with_an_empty_table()
    {
        var (system, leases) = StartUnjoined([]);
        try
        {
            var probe = CreateTestProbe();
            leases.Tell(new SubscribeLeases(probe.Ref));
            Assert.Empty(probe.ExpectMsg<LeaseSnapshot>().Leases);
        }
        finally
        {
            await system.Terminate();
        }
    }
}
