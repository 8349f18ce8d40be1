using System.Text;
using Flannel.Cni;
using Flannel.Net.SubnetEnv;
using Xunit;

namespace Flannel.Cni.Tests;

public class DelegateConfigTests
{
    private static readonly SubnetEnv Env = SubnetEnvFile.Parse(
        "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");

    private static string Render(string conf, SubnetEnv? env = null) =>
        DelegateConfig.Serialize(DelegateConfig.Render(FlannelNetConf.Parse(Encoding.UTF8.GetBytes(conf)), env ?? Env));

    [Fact]
    public void Kube_flannel_config_renders_exactly_what_flannel_stores()
    {
        // Byte-for-byte the file flannel-io/cni-plugin writes to /var/lib/cni/flannel/<id> (Go sorts map keys).
        Assert.Equal(
            """{"cniVersion":"0.3.1","hairpinMode":true,"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}""",
            Render("""{"name":"cbr0","cniVersion":"0.3.1","type":"flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true}}"""));
    }

    [Fact]
    public void Minimal_config_without_cniVersion_defaults_to_bridge()
    {
        var env = Env with { IpMasq = false, Mtu = 1472 };
        Assert.Equal(
            """{"ipMasq":true,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},"isGateway":true,"mtu":1472,"name":"mynet","type":"bridge"}""",
            Render("""{"name":"mynet","type":"flannel"}""", env));
    }

    [Fact]
    public void User_delegate_keys_win_and_other_types_get_no_isGateway()
    {
        Assert.Equal(
            """{"cniVersion":"1.0.0","ipMasq":true,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"type":"host-local"},"master":"eth0","mtu":1400,"name":"n","type":"ipvlan"}""",
            Render("""{"name":"n","cniVersion":"1.0.0","type":"flannel","delegate":{"type":"ipvlan","master":"eth0","mtu":1400,"ipMasq":true}}"""));
        Assert.Contains("\"isGateway\":false",
            Render("""{"name":"n","type":"flannel","delegate":{"isGateway":false}}"""));
    }

    [Fact]
    public void User_ipam_routes_come_first_and_the_flannel_network_route_is_appended()
    {
        Assert.Equal(
            """{"ipMasq":false,"ipam":{"dataDir":"/tmp/x","ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"192.0.2.0/24","gw":"10.244.1.1"},{"dst":"10.244.0.0/16"}],"type":"host-local"},"isGateway":true,"mtu":1450,"name":"n","type":"bridge"}""",
            Render("""{"name":"n","type":"flannel","ipam":{"dataDir":"/tmp/x","routes":[{"dst":"192.0.2.0/24","gw":"10.244.1.1"}]}}"""));
    }

    [Fact]
    public void Runtime_config_is_handed_to_the_delegate()
    {
        Assert.Contains("\"runtimeConfig\":{\"portMappings\":[{\"containerPort\":80,\"hostPort\":8080}]}",
            Render("""{"name":"n","type":"flannel","runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80}]}}"""));
    }

    [Fact]
    public void Ipv6_subnet_env_adds_a_second_range_and_route()
    {
        var env = SubnetEnvFile.Parse("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n" +
            "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
        Assert.Contains("\"ranges\":[[{\"subnet\":\"10.244.1.0/24\"}],[{\"subnet\":\"fd00:10:244:1::/64\"}]]," +
            "\"routes\":[{\"dst\":\"10.244.0.0/16\"},{\"dst\":\"fd00:10:244::/56\"}]", Render("""{"name":"n","type":"flannel"}""", env));
    }

    [Theory]
    [InlineData("""{"name":"n","type":"flannel","delegate":{"name":"x"}}""", "'delegate' dictionary must not have 'name' field")]
    [InlineData("""{"name":"n","type":"flannel","delegate":{"ipam":{}}}""", "'delegate' dictionary must not have 'ipam' field")]
    [InlineData("""{"name":"n","type":"flannel","delegate":{"type":3}}""", "must have (string) 'type' field")]
    [InlineData("""{"name":"n","type":"flannel","ipam":{"routes":[{"gw":"1.2.3.4"}]}}""", "ipam.routes")]
    [InlineData("""{"name":"n","type":"flannel","ipam":{"routes":"x"}}""", "ipam.routes")]
    public void Forbidden_or_malformed_user_keys_are_config_errors(string conf, string message)
    {
        var e = Assert.Throws<CniException>(() => Render(conf));
        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_conflist_on_stdin_is_reduced_to_the_flannel_plugin()
    {
        var conf = FlannelNetConf.Parse(Encoding.UTF8.GetBytes("""
            {"name":"cbr0","cniVersion":"0.3.1","plugins":[
              {"type":"flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true}},
              {"type":"portmap","capabilities":{"portMappings":true}}]}
            """));
        Assert.Equal("cbr0", conf.Name);
        Assert.Equal("0.3.1", conf.CniVersion);
        Assert.Equal("/run/flannel/subnet.env", conf.SubnetFile);
        Assert.Equal("/var/lib/cni/flannel", conf.DataDir);
        Assert.True(conf.Delegate!["hairpinMode"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("not json", CniErrorCodes.DecodingFailure)]
    [InlineData("[1]", CniErrorCodes.DecodingFailure)]
    [InlineData("""{"type":"flannel"}""", CniErrorCodes.InvalidNetworkConfig)]
    [InlineData("""{"name":"n","delegate":"bridge"}""", CniErrorCodes.DecodingFailure)]
    [InlineData("""{"name":"n","subnetFile":5}""", CniErrorCodes.DecodingFailure)]
    public void Bad_configs_are_rejected_with_a_code(string json, int code) =>
        Assert.Equal(code, Assert.Throws<CniException>(() => FlannelNetConf.Parse(Encoding.UTF8.GetBytes(json))).Code);
}
