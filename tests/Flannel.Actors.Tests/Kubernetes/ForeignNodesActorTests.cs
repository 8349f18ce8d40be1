using Akka.Actor;
using System.Net;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Kubernetes;
using Xunit;

namespace Flannel.Actors.Tests.Kubernetes;

/// <summary>The foreign-node view across actor-system incarnations (a cluster provider, never joined: like a rejoining
/// incarnation before it finds the cluster).</summary>
public sealed class ForeignNodesActorTests() : TestKit("""
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
    akka.loglevel = WARNING
    """)
{
    private static KubeNodeInfo Node(string name, int third) => new(name, IPNetwork.Parse($"10.244.{third}.0/24"),
        new Dictionary<string, string>
        {
            ["kube-subnet-manager"] = "true", ["backend-type"] = "udp", ["public-ip"] = $"198.18.0.{third}",
        }, IPAddress.Parse($"198.18.0.{third}"));

    [Fact]
    public void Nothing_is_published_before_the_first_list_without_a_remembered_one()
    {
        var watcher = CreateTestProbe();
        var actor = Sys.ActorOf(ForeignNodesActor.Props(watcher.Ref, new ForeignNodeMemory()));
        watcher.ExpectMsg<SubscribeKubeNodes>();
        var subscriber = CreateTestProbe();
        actor.Tell(new SubscribeForeignNodes(subscriber.Ref));
        subscriber.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public void The_next_incarnation_publishes_the_nodes_the_last_one_listed_before_its_own_list()
    {
        var memory = new ForeignNodeMemory();
        var watcher = CreateTestProbe();
        var first = Sys.ActorOf(ForeignNodesActor.Props(watcher.Ref, memory));
        watcher.ExpectMsg<SubscribeKubeNodes>();
        var subscriber = CreateTestProbe();
        first.Tell(new SubscribeForeignNodes(subscriber.Ref));
        first.Tell(new KubeNodesSynced([Node("host1", 1), Node("host2", 2)]));
        var listed = subscriber.ExpectMsg<ForeignNodesChanged>().View.Nodes;
        Assert.Equal(["host1", "host2"], listed.Select(n => n.Name));
        Sys.Stop(first);

        // The API server does not answer the next incarnation's watcher (it never sends a list).
        var next = Sys.ActorOf(ForeignNodesActor.Props(CreateTestProbe().Ref, memory));
        var routes = CreateTestProbe();
        next.Tell(new SubscribeForeignNodes(routes.Ref));
        Assert.Equal(listed, routes.ExpectMsg<ForeignNodesChanged>().View.Nodes);
    }
}
