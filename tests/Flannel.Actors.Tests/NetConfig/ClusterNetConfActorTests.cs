using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit.Xunit2;
using Flannel.Actors.NetConfig;
using Flannel.Net.Config;
using Xunit;

namespace Flannel.Actors.Tests.NetConfig;

/// <summary>The versioned cluster config on a one-node cluster: offers are judged, written, seen and handed to the switcher.</summary>
public sealed class ClusterNetConfActorTests : TestKit
{
    private const string VxlanJson = """{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""";
    private const string UdpJson = """{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}""";

    public ClusterNetConfActorTests() : base("""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        akka.loglevel = WARNING
        """)
    {
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(10));
    }

    private (IActorRef Actor, Akka.TestKit.TestProbe Switcher) Start()
    {
        var switcher = CreateTestProbe();
        return (Sys.ActorOf(ClusterNetConfActor.Props(NetConfInForce.AtStart(NetConf.Parse(VxlanJson), VxlanJson, "file"), switcher.Ref)), switcher);
    }

    [Fact]
    public void An_accepted_change_becomes_version_1_and_goes_to_the_switcher_then_counts_as_applied()
    {
        var (actor, switcher) = Start();
        actor.Tell(new ProposeNetConf(UdpJson, "configmap@5"));
        Assert.Equal("written", ExpectMsg<NetConfProposalResult>().Outcome);

        var apply = switcher.ExpectMsg<ApplyClusterNetConf>(TimeSpan.FromSeconds(5));
        Assert.Equal(1, apply.Config.Version);
        Assert.Equal("udp", apply.Conf.Backend.Type);
        Assert.Equal("vxlan", apply.Previous.Backend.Type);
        Assert.StartsWith("configmap@5 via ", apply.Config.Source);
        switcher.Reply(new ClusterNetConfApplied(1, "udp", null, 12));

        AwaitAssert(() =>
        {
            actor.Tell(GetClusterNetConf.Instance);
            var s = ExpectMsg<ClusterNetConfStatus>();
            // `ctl config show` tells the cluster version in force, not a count of its own.
            Assert.Equal((1L, "udp", 1L, UdpJson), (s.AppliedVersion, s.InForce.Conf.Backend.Type, s.InForce.Version, s.InForce.Json));
            Assert.StartsWith("configmap@5 via ", s.InForce.Source);
        });

        // The same text again (another node watching the same ConfigMap) is no new version.
        actor.Tell(new ProposeNetConf(UdpJson, "configmap@5"));
        Assert.Equal("unchanged", ExpectMsg<NetConfProposalResult>().Outcome);
        actor.Tell(new ProposeNetConf(VxlanJson, "configmap@6"));
        Assert.Equal("written", ExpectMsg<NetConfProposalResult>().Outcome);
        Assert.Equal(2, switcher.ExpectMsg<ApplyClusterNetConf>(TimeSpan.FromSeconds(5)).Config.Version);
    }

    [Fact]
    public void Invalid_and_network_changing_offers_are_refused_published_and_never_written()
    {
        var (actor, switcher) = Start();
        Sys.EventStream.Subscribe(TestActor, typeof(ClusterNetConfRefused));

        actor.Tell(new ProposeNetConf("{\"Network\":", "configmap@7"));
        var first = ExpectMsg<ClusterNetConfRefused>();
        Assert.Equal("configmap@7", first.Source);
        Assert.StartsWith("invalid net-conf.json", first.Reason);
        Assert.Equal("refused", ExpectMsg<NetConfProposalResult>().Outcome);

        actor.Tell(new ProposeNetConf("""{"Network":"10.10.0.0/16","Backend":{"Type":"udp"}}""", "configmap@8"));
        Assert.Contains("Network 10.244.0.0/16 -> 10.10.0.0/16", ExpectMsg<ClusterNetConfRefused>().Reason);
        Assert.Equal("refused", ExpectMsg<NetConfProposalResult>().Outcome);

        switcher.ExpectNoMsg(TimeSpan.FromMilliseconds(700));
        actor.Tell(GetClusterNetConf.Instance);
        var s = ExpectMsg<ClusterNetConfStatus>();
        Assert.Null(s.Latest);
        Assert.Equal(("vxlan", 0L, "file"), (s.InForce.Conf.Backend.Type, s.InForce.Version, s.InForce.Source));
    }

    [Fact]
    public void A_file_offered_at_start_only_initialises_an_empty_cluster_config()
    {
        var (actor, switcher) = Start();
        actor.Tell(new ProposeNetConf(VxlanJson, "file a", OnlyIfUnset: true));
        Assert.Equal("written", ExpectMsg<NetConfProposalResult>().Outcome);
        AwaitAssert(() =>
        {
            actor.Tell(GetClusterNetConf.Instance);
            Assert.Equal(1, ExpectMsg<ClusterNetConfStatus>().Latest?.Version);
        });
        // Same network and backend as in force: nothing to switch.
        switcher.ExpectNoMsg(TimeSpan.FromMilliseconds(500));

        actor.Tell(new ProposeNetConf(UdpJson, "file b (stale)", OnlyIfUnset: true));
        Assert.Equal("unchanged", ExpectMsg<NetConfProposalResult>().Outcome);
        switcher.ExpectNoMsg(TimeSpan.FromMilliseconds(700));
        actor.Tell(GetClusterNetConf.Instance);
        var status = ExpectMsg<ClusterNetConfStatus>();
        Assert.Equal(1, status.Latest?.Version);
        // The node runs version 1 now (the text it started with, adopted by the cluster).
        Assert.Equal((1L, "vxlan"), (status.InForce.Version, status.InForce.Conf.Backend.Type));
        Assert.StartsWith("file a via ", status.InForce.Source);
    }
}
