using Akka.Actor;
using System.Net;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Xunit;
using static Flannel.Actors.Tests.Leases.AuthorizerFixtures;

namespace Flannel.Actors.Tests.Kubernetes;

/// <summary>The podCIDR authority the allocator consults: Unknown until the first list, then Found / NotFound.</summary>
public sealed class KubeNodeCidrAuthorityTests : TestKit
{
    [Fact]
    public void Nodes_are_unknown_until_the_first_complete_list_then_missing_ones_are_not_found()
    {
        var authority = new KubeNodeCidrAuthority();
        Assert.Equal(NodeCidr.Unknown.Instance, authority.Lookup("a"));

        authority.Set(KubeNode("a", "10.244.1.0/24"));
        Assert.Equal(new NodeCidr.Found(Cidr("10.244.1.0/24")), authority.Lookup("a"));
        Assert.Equal(NodeCidr.Unknown.Instance, authority.Lookup("b"));

        authority.Replace([KubeNode("b", null)]);
        Assert.Equal(NodeCidr.NotFound.Instance, authority.Lookup("a"));
        Assert.Equal(new NodeCidr.Found(null), authority.Lookup("b"));

        authority.Remove("b");
        Assert.Equal(NodeCidr.NotFound.Instance, authority.Lookup("b"));
    }

    [Fact]
    public void The_feeder_keeps_it_current_from_the_node_watchers_events()
    {
        var watcher = CreateTestProbe();
        var authority = new KubeNodeCidrAuthority();
        var feeder = Sys.ActorOf(NodeCidrFeederActor.Props(watcher.Ref, authority));
        watcher.ExpectMsg<SubscribeKubeNodes>(m => m.Subscriber.Equals(feeder));

        feeder.Tell(new KubeNodeAdded(KubeNode("a", null)));
        feeder.Tell(new KubeNodesSynced([KubeNode("a", null), KubeNode("b", "10.244.2.0/24")]));
        feeder.Tell(new KubeNodeUpdated(KubeNode("a", "10.244.1.0/24"), KubeNode("a", null)));
        feeder.Tell(new KubeNodeDeleted(KubeNode("b", "10.244.2.0/24")));

        AwaitAssert(() =>
        {
            Assert.Equal(new NodeCidr.Found(IPNetwork.Parse("10.244.1.0/24")), authority.Lookup("a"));
            Assert.Equal(NodeCidr.NotFound.Instance, authority.Lookup("b"));
        }, TimeSpan.FromSeconds(3));
    }
}
