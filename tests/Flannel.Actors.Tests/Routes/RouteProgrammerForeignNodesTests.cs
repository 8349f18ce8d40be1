using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Flannel.Actors.Routes;
using Flannel.Actors.Tests.Node;
using Xunit;
using static Flannel.Actors.Tests.Leases.LeaseFixtures;

namespace Flannel.Actors.Tests.Routes;

/// <summary>The route programmer's input of Nodes outside the cluster (issue #17), with a fake backend.</summary>
public sealed class RouteProgrammerForeignNodesTests : TestKit
{
    private readonly FakeBackend _backend = new();
    private readonly AgentStatus _status = new("a");
    private static readonly Flannel.Actors.Leases.Lease Own = Lease("10.244.1.0/24", "a", "192.0.2.1");

    private (IActorRef Actor, Akka.TestKit.TestProbe Leases, Akka.TestKit.TestProbe Foreign) Start(TimeSpan? foreignWait = null,
        (IPNetwork, IPAddress)? selfBeforeLease = null)
    {
        if (selfBeforeLease is null) _status.Update(s => s with { Lease = Own });
        var leases = CreateTestProbe();
        var foreign = CreateTestProbe();
        var settings = new RouteProgrammerSettings("a", TimeSpan.FromMinutes(10), TimeSpan.FromMilliseconds(20))
        {
            Network = IPNetwork.Parse("10.244.0.0/16"),
            ForeignNodes = foreign.Ref,
            ForeignViewWait = foreignWait ?? TimeSpan.FromSeconds(15),
            SelfBeforeLease = selfBeforeLease,
        };
        var actor = Sys.ActorOf(RouteProgrammerActor.Props(leases.Ref, _backend, settings, _status));
        leases.ExpectMsg<SubscribeLeases>();
        Assert.Equal(actor, foreign.ExpectMsg<SubscribeForeignNodes>().Subscriber);
        return (actor, leases, foreign);
    }

    private static ForeignNodesChanged View(IEnumerable<string> members, params ForeignNode[] nodes) => new(new ForeignNodeView(nodes, members.ToHashSet()));

    private static ForeignNode Upstream(string name, string cidr, string ip) =>
        new(name, IPNetwork.Parse(cidr), true, "fake", null, IPAddress.Parse(ip));

    [Fact]
    public async Task Nothing_is_reconciled_before_the_foreign_view_arrives_then_both_sources_are_programmed()
    {
        var (actor, _, _) = Start();
        actor.Tell(SnapshotWithOwn(Own, Lease("10.244.2.0/24", "b", "192.0.2.2")));
        Thread.Sleep(300);
        Assert.Equal(0, _backend.ReconcileCount);

        actor.Tell(View(["192.0.2.1", "192.0.2.2"], Upstream("c", "10.244.3.0/24", "192.0.2.3")));
        AwaitAssert(() => Assert.True(_status.Current.PeersInSync));
        Assert.Equal(["10.244.2.0/24", "10.244.3.0/24"], _backend.Kernel.Select(p => p.Subnet.ToString()).Order());
        var f = Assert.Single(_status.Current.ForeignPeers);
        Assert.Equal(("c", "10.244.3.0/24"), (f.Node, f.Peer.Subnet.ToString()));

        var routes = await actor.Ask<RouteStatus>(GetRouteStatus.Instance, TimeSpan.FromSeconds(3));
        Assert.Equal("c", routes.Foreign![IPNetwork.Parse("10.244.3.0/24")]);
        Assert.False(routes.Foreign.ContainsKey(IPNetwork.Parse("10.244.2.0/24")));
    }

    [Fact]
    public void A_foreign_node_joining_the_cluster_with_its_subnet_is_not_reprogrammed_and_leaving_annotations_withdraws_it()
    {
        var (actor, _, _) = Start();
        actor.Tell(SnapshotWithOwn(Own));
        actor.Tell(View(["192.0.2.1"], Upstream("c", "10.244.3.0/24", "192.0.2.3")));
        AwaitAssert(() => Assert.Single(_backend.Kernel));
        var passes = _backend.ReconcileCount;

        // Its agent starts ours: a member's lease with the same content, and it is a member now.
        actor.Tell(SnapshotWithOwn(Own, Lease("10.244.3.0/24", "c", "192.0.2.3") with { BackendType = "fake" }));
        actor.Tell(View(["192.0.2.1", "192.0.2.3"], Upstream("c", "10.244.3.0/24", "192.0.2.3")));
        AwaitAssert(() => Assert.Empty(_status.Current.ForeignPeers));
        Thread.Sleep(300);
        Assert.Equal(passes, _backend.ReconcileCount);
        Assert.Single(_backend.Kernel);

        // A Node that loses its annotations (not a member) is withdrawn.
        actor.Tell(SnapshotWithOwn(Own));
        actor.Tell(View(["192.0.2.1"], Upstream("c", "10.244.3.0/24", "192.0.2.3") with { Managed = false, BackendType = null }));
        AwaitAssert(() => Assert.Empty(_backend.Kernel));
    }

    /// <summary>
    /// Started before the lease (Kubernetes mode, a restarted agent): the peers are the Nodes' annotations, judged against
    /// the podCIDR the agent runs on, and the empty table is never programmed on its own, however long the API takes.
    /// </summary>
    [Fact]
    public void Before_the_lease_the_nodes_annotations_are_programmed_around_the_podcidr_and_an_empty_table_never_alone()
    {
        var (actor, _, _) = Start(foreignWait: TimeSpan.FromMilliseconds(200), selfBeforeLease: (Own.Subnet, Own.PublicIp));
        actor.Tell(Snapshot());
        Thread.Sleep(700);
        Assert.Equal(0, _backend.ReconcileCount);

        actor.Tell(View([], Upstream("b", "10.244.2.0/24", "192.0.2.2"), Upstream("x", "10.244.1.0/25", "192.0.2.9"),
            Upstream("y", "10.244.3.0/24", "192.0.2.1")));
        AwaitAssert(() => Assert.True(_status.Current.PeersInSync));
        // x overlaps the podCIDR this node runs on, y claims its public IP: refused as they are once the lease comes.
        Assert.Equal(["10.244.2.0/24"], _backend.Kernel.Select(p => p.Subnet.ToString()));
        Assert.Equal(["x", "y"], _status.Current.RejectedLeases.Select(r => r.Node).Order());
    }

    [Fact]
    public void Without_a_node_list_the_lease_table_is_programmed_alone_after_the_wait()
    {
        var (actor, _, _) = Start(foreignWait: TimeSpan.FromMilliseconds(500));
        actor.Tell(SnapshotWithOwn(Own, Lease("10.244.2.0/24", "b", "192.0.2.2")));
        Thread.Sleep(200);
        Assert.Equal(0, _backend.ReconcileCount);
        AwaitAssert(() => Assert.Single(_backend.Kernel), TimeSpan.FromSeconds(3));
    }
}
