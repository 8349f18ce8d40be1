using System.Net;
using Flannel.Net.Config;
using Xunit;

namespace Flannel.Net.Tests.Config;

public class NetConfTests
{
    private static NetConfException Fails(string json) => Assert.Throws<NetConfException>(() => NetConf.Parse(json));

    [Fact]
    public void Defaults_for_a_16_network_are_24_subnets_from_the_second_to_the_last()
    {
        var c = NetConf.Parse("""{"Network":"10.244.0.0/16"}""");
        Assert.True(c.EnableIPv4);
        Assert.False(c.EnableIPv6);
        Assert.Equal(IPNetwork.Parse("10.244.0.0/16"), c.Network);
        Assert.Equal(24, c.SubnetLen);
        Assert.Equal(IPAddress.Parse("10.244.1.0"), c.SubnetMin);
        Assert.Equal(IPAddress.Parse("10.244.255.0"), c.SubnetMax);
        Assert.Equal(255, c.SubnetCount);
        Assert.IsType<UdpBackendConfig>(c.Backend);
        Assert.Equal("udp", c.Backend.Type);
        Assert.Equal(8285, ((UdpBackendConfig)c.Backend).Port);
    }

    [Theory]
    [InlineData("10.0.0.0/8", 24)]
    [InlineData("10.244.0.0/22", 24)]
    [InlineData("10.244.0.0/23", 25)]
    [InlineData("10.244.0.0/26", 28)]
    [InlineData("10.244.0.0/28", 30)]
    public void Default_SubnetLen_is_24_up_to_a_22_network_else_prefix_plus_2(string network, int expected)
    {
        Assert.Equal(expected, NetConf.Parse($$"""{"Network":"{{network}}"}""").SubnetLen);
    }

    [Fact]
    public void Network_smaller_than_28_is_an_error()
    {
        Assert.Equal("net-conf.json: Network 10.244.0.0/29 is too small; the minimum useful prefix is /28",
            Fails("""{"Network":"10.244.0.0/29"}""").Message);
    }

    [Fact]
    public void SubnetLen_larger_than_30_is_an_error()
    {
        Assert.Equal("net-conf.json: SubnetLen 31 is larger than 30",
            Fails("""{"Network":"10.244.0.0/16","SubnetLen":31}""").Message);
    }

    [Fact]
    public void SubnetLen_below_network_prefix_plus_2_is_an_error()
    {
        Assert.Equal("net-conf.json: SubnetLen 17 is smaller than 18: Network 10.244.0.0/16 must hold at least four subnets",
            Fails("""{"Network":"10.244.0.0/16","SubnetLen":17}""").Message);
        Assert.Equal(18, NetConf.Parse("""{"Network":"10.244.0.0/16","SubnetLen":18}""").SubnetLen);
    }

    [Fact]
    public void SubnetLen_zero_means_default()
    {
        Assert.Equal(24, NetConf.Parse("""{"Network":"10.244.0.0/16","SubnetLen":0}""").SubnetLen);
    }

    [Fact]
    public void An_explicit_SubnetLen_on_a_small_network_skips_the_28_rule_like_flannel()
    {
        var c = NetConf.Parse("""{"Network":"10.244.0.0/28","SubnetLen":30}""");
        Assert.Equal(30, c.SubnetLen);
        Assert.Equal(3, c.SubnetCount);
    }

    [Fact]
    public void Keys_are_case_insensitive_and_the_last_duplicate_wins()
    {
        var c = NetConf.Parse("""{"network":"10.1.0.0/16","SUBNETLEN":20,"subnetlen":22,"backend":{"type":"VXLAN","vni":4}}""");
        Assert.Equal(IPNetwork.Parse("10.1.0.0/16"), c.Network);
        Assert.Equal(22, c.SubnetLen);
        var vx = Assert.IsType<VxlanBackendConfig>(c.Backend);
        Assert.Equal("vxlan", vx.Type);
        Assert.Equal(4, vx.Vni);
    }

    [Fact]
    public void Network_host_bits_are_masked_like_go_ParseCIDR()
    {
        Assert.Equal(IPNetwork.Parse("10.244.0.0/16"), NetConf.Parse("""{"Network":"10.244.3.7/16"}""").Network);
    }

    [Fact]
    public void Missing_Network_is_an_error_when_IPv4_is_enabled()
    {
        Assert.Equal("net-conf.json: Network is missing (required when EnableIPv4 is true)", Fails("{}").Message);
    }

    [Theory]
    [InlineData("""{"Network":"10.244.0.0"}""", "net-conf.json: Network \"10.244.0.0\" is not an IPv4 CIDR")]
    [InlineData("""{"Network":"fc00::/48"}""", "net-conf.json: Network \"fc00::/48\" is not an IPv4 CIDR")]
    [InlineData("""{"Network":16}""", "net-conf.json: Network 16 is not an IPv4 CIDR")]
    [InlineData("""{"Network":"10.244.0.0/16","SubnetLen":"24"}""", "net-conf.json: SubnetLen \"24\" is not a non-negative integer")]
    [InlineData("""{"Network":"10.244.0.0/16","SubnetLen":-1}""", "net-conf.json: SubnetLen -1 is not a non-negative integer")]
    [InlineData("""{"Network":"10.244.0.0/16","EnableIPv4":"yes"}""", "net-conf.json: EnableIPv4 \"yes\" is not true or false")]
    [InlineData("""{"Network":"10.244.0.0/16","SubnetMin":"10.244.1"}""", "net-conf.json: SubnetMin \"10.244.1\" is not an IPv4 address")]
    public void Malformed_values_name_field_and_value(string json, string message)
    {
        Assert.Equal(message, Fails(json).Message);
    }

    [Fact]
    public void Invalid_json_and_non_objects_are_errors()
    {
        Assert.StartsWith("net-conf.json: invalid JSON:", Fails("{\"Network\":").Message);
        Assert.Equal("net-conf.json: expected a JSON object, got Array", Fails("[]").Message);
    }

    [Fact]
    public void SubnetMin_and_SubnetMax_are_honoured()
    {
        var c = NetConf.Parse("""{"Network":"10.244.0.0/16","SubnetMin":"10.244.10.0","SubnetMax":"10.244.19.0"}""");
        Assert.Equal(IPAddress.Parse("10.244.10.0"), c.SubnetMin);
        Assert.Equal(IPAddress.Parse("10.244.19.0"), c.SubnetMax);
        Assert.Equal(10, c.SubnetCount);
        Assert.Equal(IPNetwork.Parse("10.244.10.0/24"), c.EnumerateSubnets().First());
        Assert.Equal(IPNetwork.Parse("10.244.19.0/24"), c.EnumerateSubnets().Last());
    }

    [Theory]
    [InlineData("""{"Network":"10.244.0.0/16","SubnetMin":"10.245.0.0"}""", "net-conf.json: SubnetMin 10.245.0.0 is not inside Network 10.244.0.0/16")]
    [InlineData("""{"Network":"10.244.0.0/16","SubnetMax":"10.243.255.0"}""", "net-conf.json: SubnetMax 10.243.255.0 is not inside Network 10.244.0.0/16")]
    [InlineData("""{"Network":"10.244.0.0/16","SubnetMin":"10.244.1.128"}""", "net-conf.json: SubnetMin 10.244.1.128 is not on a SubnetLen /24 boundary")]
    [InlineData("""{"Network":"10.244.0.0/16","SubnetMax":"10.244.9.1"}""", "net-conf.json: SubnetMax 10.244.9.1 is not on a SubnetLen /24 boundary")]
    [InlineData("""{"Network":"10.244.0.0/16","SubnetMin":"10.244.9.0","SubnetMax":"10.244.8.0"}""", "net-conf.json: SubnetMin 10.244.9.0 is greater than SubnetMax 10.244.8.0")]
    public void SubnetMin_and_SubnetMax_must_lie_inside_Network_and_be_aligned(string json, string message)
    {
        Assert.Equal(message, Fails(json).Message);
    }

    [Fact]
    public void SubnetMin_zero_means_default_like_flannel()
    {
        Assert.Equal(IPAddress.Parse("10.244.1.0"), NetConf.Parse("""{"Network":"10.244.0.0/16","SubnetMin":"0.0.0.0"}""").SubnetMin);
    }

    [Fact]
    public void Backend_type_is_lower_cased_and_missing_backend_means_udp()
    {
        Assert.Equal("host-gw", NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"Host-GW"}}""").Backend.Type);
        Assert.Equal("udp", NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":null}""").Backend.Type);
    }

    [Fact]
    public void Backend_without_type_or_with_unknown_type_is_an_error()
    {
        Assert.Equal("net-conf.json: Backend.Type is missing (unknown backend type \"\"; supported: udp, vxlan, host-gw)",
            Fails("""{"Network":"10.244.0.0/16","Backend":{"Port":1}}""").Message);
        Assert.Equal("net-conf.json: Backend.Type \"wireguard\" is an unknown backend type (supported: udp, vxlan, host-gw)",
            Fails("""{"Network":"10.244.0.0/16","Backend":{"Type":"wireguard"}}""").Message);
        Assert.Equal("net-conf.json: Backend \"vxlan\" is not an object",
            Fails("""{"Network":"10.244.0.0/16","Backend":"vxlan"}""").Message);
    }

    [Fact]
    public void Udp_backend_port()
    {
        Assert.Equal(new UdpBackendConfig(9000), NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"udp","Port":9000}}""").Backend);
        Assert.Equal("net-conf.json: Backend.Port 0 is out of range 1..65535",
            Fails("""{"Network":"10.244.0.0/16","Backend":{"Type":"udp","Port":0}}""").Message);
        Assert.Equal("net-conf.json: Backend.Port 70000 is out of range 1..65535",
            Fails("""{"Network":"10.244.0.0/16","Backend":{"Type":"udp","Port":70000}}""").Message);
    }

    [Fact]
    public void Vxlan_defaults_and_fields()
    {
        var d = Assert.IsType<VxlanBackendConfig>(NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""").Backend);
        Assert.Equal(new VxlanBackendConfig(Vni: 1, Port: 0, Gbp: false, Learning: false, DirectRouting: false, Mtu: 0), d);
        Assert.Equal(8472, d.EffectivePort);

        var v = Assert.IsType<VxlanBackendConfig>(NetConf.Parse(
            """{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":42,"Port":4789,"GBP":true,"Learning":true,"DirectRouting":true,"MTU":1400}}""").Backend);
        Assert.Equal(new VxlanBackendConfig(42, 4789, true, true, true, 1400), v);
        Assert.Equal(4789, v.EffectivePort);
    }

    [Theory]
    [InlineData("""{"Type":"vxlan","VNI":16777216}""", "net-conf.json: Backend.VNI 16777216 is out of range 0..16777215")]
    [InlineData("""{"Type":"vxlan","Port":65536}""", "net-conf.json: Backend.Port 65536 is out of range 0..65535")]
    [InlineData("""{"Type":"vxlan","MTU":20}""", "net-conf.json: Backend.MTU 20 is out of range 68..65535 (or 0 for auto)")]
    [InlineData("""{"Type":"vxlan","GBP":1}""", "net-conf.json: Backend.GBP 1 is not true or false")]
    [InlineData("""{"Type":"vxlan","VNI":"1"}""", "net-conf.json: Backend.VNI \"1\" is not a non-negative integer")]
    public void Vxlan_field_errors_name_field_and_value(string backend, string message)
    {
        Assert.Equal(message, Fails($$"""{"Network":"10.244.0.0/16","Backend":{{backend}}}""").Message);
    }

    [Fact]
    public void Backend_raw_json_is_kept_but_not_part_of_equality()
    {
        var a = NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":1,"Extra":"x"}}""");
        var b = NetConf.Parse("""{ "network": "10.244.0.0/16", "backend": { "type": "vxlan" } }""");
        Assert.Equal("""{"Type":"vxlan","VNI":1,"Extra":"x"}""", a.Backend.RawJson);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":2}}"""));
        Assert.NotEqual(a, NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}"""));
        Assert.NotEqual(a, NetConf.Parse("""{"Network":"10.245.0.0/16","Backend":{"Type":"vxlan"}}"""));
    }

    [Fact]
    public void IPv6_defaults_and_rules()
    {
        var c = NetConf.Parse("""{"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48"}""");
        Assert.True(c.EnableIPv6);
        Assert.Equal(64, c.IPv6SubnetLen);
        Assert.Equal(IPAddress.Parse("fc00:0:0:1::"), c.IPv6SubnetMin);
        Assert.Equal(IPAddress.Parse("fc00:0:0:ffff::"), c.IPv6SubnetMax);
        Assert.Equal(IPNetwork.Parse("fc00:0:0:1::/64"), c.EnumerateIPv6Subnets().First());

        Assert.Equal(66, NetConf.Parse("""{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/64"}""").IPv6SubnetLen);
        Assert.Equal("net-conf.json: IPv6Network is missing (required when EnableIPv6 is true)",
            Fails("""{"Network":"10.244.0.0/16","EnableIPv6":true}""").Message);
        Assert.Equal("net-conf.json: IPv6SubnetLen 127 is larger than 126",
            Fails("""{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48","IPv6SubnetLen":127}""").Message);
        Assert.Equal("net-conf.json: IPv6SubnetLen 49 is smaller than 50: IPv6Network fc00::/48 must hold at least four subnets",
            Fails("""{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48","IPv6SubnetLen":49}""").Message);
        Assert.Equal("net-conf.json: IPv6Network fc00::/125 is too small; the minimum useful prefix is /124",
            Fails("""{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/125"}""").Message);
        Assert.Equal("net-conf.json: IPv6SubnetMin fc01:: is not inside IPv6Network fc00::/48",
            Fails("""{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48","IPv6SubnetMin":"fc01::"}""").Message);
        Assert.Equal("net-conf.json: IPv6SubnetMax fc00::1 is not on a IPv6SubnetLen /64 boundary",
            Fails("""{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48","IPv6SubnetMax":"fc00::1"}""").Message);
        Assert.Equal("net-conf.json: IPv6Network \"10.0.0.0/8\" is not an IPv6 CIDR",
            Fails("""{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"10.0.0.0/8"}""").Message);
    }

    [Fact]
    public void IPv6_fields_are_not_validated_when_IPv6_is_disabled_but_must_be_well_formed()
    {
        var c = NetConf.Parse("""{"Network":"10.244.0.0/16","IPv6Network":"fc00::/48","IPv6SubnetLen":200}""");
        Assert.False(c.EnableIPv6);
        Assert.Equal(IPNetwork.Parse("fc00::/48"), c.IPv6Network);
    }

    [Fact]
    public void IPv4_can_be_disabled_and_both_disabled_is_an_error()
    {
        var c = NetConf.Parse("""{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48"}""");
        Assert.Null(c.Network);
        Assert.Equal(0, c.SubnetCount);
        Assert.Equal("net-conf.json: EnableIPv4 and EnableIPv6 are both false; enable at least one",
            Fails("""{"EnableIPv4":false}""").Message);
    }

    [Fact]
    public void Fits_checks_length_and_range()
    {
        var c = NetConf.Parse("""{"Network":"10.244.0.0/16","SubnetMin":"10.244.10.0","SubnetMax":"10.244.19.0"}""");
        Assert.True(c.Fits(IPNetwork.Parse("10.244.10.0/24")));
        Assert.True(c.Fits(IPNetwork.Parse("10.244.19.0/24")));
        Assert.False(c.Fits(IPNetwork.Parse("10.244.9.0/24")));
        Assert.False(c.Fits(IPNetwork.Parse("10.244.20.0/24")));
        Assert.False(c.Fits(IPNetwork.Parse("10.244.10.0/25")));
        Assert.False(c.Fits(IPNetwork.Parse("10.245.10.0/24")));
        Assert.False(c.Fits(IPNetwork.Parse("fc00::/64")));

        Assert.True(c.FitsNetwork(IPNetwork.Parse("10.244.0.0/24")));
        Assert.True(c.FitsNetwork(IPNetwork.Parse("10.244.3.0/25")));
        Assert.False(c.FitsNetwork(IPNetwork.Parse("10.0.0.0/8")));
        Assert.False(c.FitsNetwork(IPNetwork.Parse("10.245.0.0/24")));
    }

    [Fact]
    public void Enumerates_every_subnet_of_the_range_in_order()
    {
        var c = NetConf.Parse("""{"Network":"10.244.0.0/26"}""");
        Assert.Equal(28, c.SubnetLen);
        Assert.Equal(["10.244.0.16/28", "10.244.0.32/28", "10.244.0.48/28"], c.EnumerateSubnets().Select(n => n.ToString()));
        var top = NetConf.Parse("""{"Network":"255.255.255.0/24","SubnetLen":26}""");
        Assert.Equal(["255.255.255.64/26", "255.255.255.128/26", "255.255.255.192/26"], top.EnumerateSubnets().Select(n => n.ToString()));
    }

    [Fact]
    public void Load_reports_a_missing_file()
    {
        var e = Assert.Throws<NetConfException>(() => NetConf.Load("/nonexistent/net-conf.json"));
        Assert.Equal("net-conf.json: /nonexistent/net-conf.json not found", e.Message);
    }
}
