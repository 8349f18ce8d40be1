using Flannel.Actors.NetConfig;
using Flannel.Net.Config;
using Xunit;

namespace Flannel.Actors.Tests.NetConfig;

public sealed class NetConfChangePolicyTests
{
    private static readonly NetConf Vxlan = NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""");

    [Fact]
    public void A_backend_type_change_is_accepted_as_a_backend_switch()
    {
        var d = Assert.IsType<NetConfDecision.Accept>(NetConfChangePolicy.Decide(Vxlan, """{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}"""));
        Assert.True(d.BackendChanged);
        Assert.Equal("udp", d.Conf.Backend.Type);
        Assert.Equal("backend vxlan -> udp", d.Summary);
    }

    [Fact]
    public void A_backend_setting_change_is_accepted_and_named()
    {
        var d = Assert.IsType<NetConfDecision.Accept>(NetConfChangePolicy.Decide(Vxlan, """{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":4}}"""));
        Assert.True(d.BackendChanged);
        Assert.Contains("backend vxlan settings", d.Summary);
        Assert.Equal(4, Assert.IsType<VxlanBackendConfig>(d.Conf.Backend).Vni);
    }

    [Fact]
    public void Reformatted_text_of_the_same_config_is_unchanged()
    {
        Assert.IsType<NetConfDecision.Unchanged>(NetConfChangePolicy.Decide(Vxlan, """
            {
              "Network": "10.244.0.0/16",
              "Backend": { "Type": "vxlan" }
            }
            """));
    }

    [Fact]
    public void Invalid_json_is_refused_with_the_parser_message()
    {
        var r = Assert.IsType<NetConfDecision.Refuse>(NetConfChangePolicy.Decide(Vxlan, """{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}"""));
        Assert.StartsWith("invalid net-conf.json:", r.Reason);
    }

    [Fact]
    public void An_unknown_backend_is_refused_naming_the_field()
    {
        var r = Assert.IsType<NetConfDecision.Refuse>(NetConfChangePolicy.Decide(Vxlan, """{"Network":"10.244.0.0/16","Backend":{"Type":"wireguard2"}}"""));
        Assert.Contains("Type", r.Reason);
    }

    [Fact]
    public void A_different_network_is_refused_even_with_a_valid_backend_change()
    {
        var r = Assert.IsType<NetConfDecision.Refuse>(NetConfChangePolicy.Decide(Vxlan, """{"Network":"10.10.0.0/16","Backend":{"Type":"udp"}}"""));
        Assert.Contains("Network 10.244.0.0/16 -> 10.10.0.0/16", r.Reason);
        Assert.Contains("only Backend can change", r.Reason);
    }

    [Fact]
    public void A_different_subnet_length_is_refused()
    {
        var r = Assert.IsType<NetConfDecision.Refuse>(NetConfChangePolicy.Decide(Vxlan, """{"Network":"10.244.0.0/16","SubnetLen":25,"Backend":{"Type":"vxlan"}}"""));
        Assert.Contains("SubnetLen 24 -> 25", r.Reason);
    }

    [Fact]
    public void Versioned_configs_round_trip_through_the_register_text()
    {
        var v = new VersionedNetConf(7, """{"Network":"10.244.0.0/16"}""", "configmap@12 via node-a", DateTimeOffset.Parse("2026-01-02T03:04:05Z"));
        Assert.Equal(v, VersionedNetConf.FromWire(v.ToWire()));
    }
}
