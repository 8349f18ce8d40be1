using Akka.Actor;
using System.Collections.Immutable;
using System.Net;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Xunit;

namespace Flannel.Actors.Tests.Kubernetes;

public sealed class NodeLeaseReleaserActorTests : TestKit
{
    private static Lease L(string subnet, string node) =>
        new(IPNetwork.Parse(subnet), node, IPAddress.Parse("192.0.2.1"), "vxlan", null, DateTimeOffset.UtcNow.AddHours(1), 1);

    private static KubeNodeInfo Node(string name) => new(name, null, new Dictionary<string, string>(), null);

    private static LeaseSnapshot Snapshot(params Lease[] leases) => new(leases.ToImmutableDictionary(l => l.Subnet));

    [Fact]
    public void A_deleted_node_has_its_lease_released_and_an_unrelated_one_is_kept()
    {
        var leases = CreateTestProbe();
        var watcher = CreateTestProbe();
        var releaser = Sys.ActorOf(NodeLeaseReleaserActor.Props(leases.Ref, watcher.Ref, "a", _ => { }));
        leases.ExpectMsg<SubscribeLeases>();
        watcher.ExpectMsg<SubscribeKubeNodes>();

        releaser.Tell(Snapshot(L("10.244.1.0/24", "a"), L("10.244.2.0/24", "b"), L("10.244.3.0/24", "c")));
        releaser.Tell(new KubeNodeDeleted(Node("b")));
        Assert.Equal(IPNetwork.Parse("10.244.2.0/24"), leases.ExpectMsg<ReleaseLease>().Subnet);
        leases.Reply(new LeaseReleased(IPNetwork.Parse("10.244.2.0/24")));
        releaser.Tell(Snapshot(L("10.244.1.0/24", "a"), L("10.244.3.0/24", "c")));
        leases.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_node_missing_from_a_relist_is_released_too()
    {
        var leases = CreateTestProbe();
        var releaser = Sys.ActorOf(NodeLeaseReleaserActor.Props(leases.Ref, CreateTestProbe().Ref, "a", _ => { }));
        leases.ExpectMsg<SubscribeLeases>();
        releaser.Tell(Snapshot(L("10.244.1.0/24", "a"), L("10.244.4.0/24", "d")));
        releaser.Tell(new KubeNodesSynced([Node("a")]));
        Assert.Equal(IPNetwork.Parse("10.244.4.0/24"), leases.ExpectMsg<ReleaseLease>().Subnet);
    }

    [Fact]
    public void The_own_node_deleted_calls_back_instead_of_releasing()
    {
        var leases = CreateTestProbe();
        var reasons = new List<string>();
        var releaser = Sys.ActorOf(NodeLeaseReleaserActor.Props(leases.Ref, CreateTestProbe().Ref, "a", r => { lock (reasons) reasons.Add(r); }));
        leases.ExpectMsg<SubscribeLeases>();
        releaser.Tell(Snapshot(L("10.244.1.0/24", "a")));
        releaser.Tell(new KubeNodeDeleted(Node("a")));
        AwaitAssert(() => { lock (reasons) Assert.Equal(["node a was deleted from Kubernetes"], reasons); });
        leases.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }
}
