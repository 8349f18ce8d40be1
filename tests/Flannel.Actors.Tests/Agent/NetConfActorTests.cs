using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flannel.Actors.NetConfig;
using Flannel.Net.Config;
using Xunit;

namespace Flannel.Actors.Tests.Agent;

public sealed class NetConfActorTests : TestKit
{
    private const string Initial = """{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""";

    [Fact]
    public void A_malformed_reload_is_refused_naming_the_field_and_the_old_config_stays()
    {
        var actor = Sys.ActorOf(NetConfActor.Props(NetConf.Parse(Initial), Initial, "/etc/kube-flannel/net-conf.json"));
        actor.Tell(new ReloadNetConf("""{"Network":"10.244.0.0/16","SubnetLen":31}""", "configmap"));
        var refused = ExpectMsg<NetConfRefused>();
        Assert.Contains("SubnetLen", refused.Reason);
        actor.Tell(GetNetConf.Instance);
        var current = ExpectMsg<NetConfInForce>();
        Assert.Equal(1, current.Version);
        Assert.Equal("vxlan", current.Conf.Backend.Type);
    }

    [Fact]
    public void An_equal_config_is_unchanged_and_a_different_one_is_accepted_and_published()
    {
        var actor = Sys.ActorOf(NetConfActor.Props(NetConf.Parse(Initial), Initial, "file"));
        actor.Tell(new ReloadNetConf("""{ "network": "10.244.0.0/16", "backend": { "type": "VXLAN" } }""", "file"));
        ExpectMsg<NetConfUnchanged>();

        Sys.EventStream.Subscribe(TestActor, typeof(NetConfAccepted));
        actor.Tell(new ReloadNetConf("""{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}""", "file"));
        var accepted = ExpectMsg<NetConfAccepted>();
        Assert.Equal(2, accepted.Current.Version);
        Assert.Equal("vxlan", accepted.Previous.Backend.Type);
        Assert.Equal("host-gw", ExpectMsg<NetConfAccepted>().Current.Conf.Backend.Type);
    }
}
