using System.Collections;
using System.Net;
using Flannel.Host.Options;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Flannel.Host.Tests.Options;

public class FlanneldOptionsTests
{
    private static FlanneldOptions Parse(string[] args, Dictionary<string, string>? env = null) =>
        FlanneldOptions.Parse(args, new Hashtable(env ?? new Dictionary<string, string>()), hostName: "host-a");

    [Fact]
    public void Defaults_match_flannel()
    {
        var o = Parse([]);
        Assert.Empty(o.Iface);
        Assert.Empty(o.IfaceRegex);
        Assert.Null(o.IfaceCanReach);
        Assert.Null(o.PublicIp);
        Assert.Equal("/run/flannel/subnet.env", o.SubnetFile);
        Assert.Equal("/etc/kube-flannel/net-conf.json", o.NetConfigPath);
        Assert.False(o.IpMasq);
        Assert.False(o.IpMasqFullyRandomDisable);
        Assert.Equal(TimeSpan.FromSeconds(5), o.IptablesResync);
        Assert.True(o.IptablesForwardRules);
        Assert.True(o.ReleaseStartupPages);
        Assert.Equal(TimeSpan.FromMinutes(60), o.SubnetLeaseRenewMargin);
        Assert.Equal(IPAddress.Any, o.HealthzIp);
        Assert.Equal(0, o.HealthzPort);
        Assert.False(o.KubeSubnetMgr);
        Assert.Null(o.KubeApiUrl);
        Assert.Null(o.KubeconfigFile);
        Assert.Equal("flannel.alpha.coreos.com", o.KubeAnnotationPrefix);
        Assert.True(o.SetNodeNetworkUnavailable);
        Assert.Empty(o.ClusterSeeds);
        Assert.Equal(4053, o.ClusterPort);
        Assert.Null(o.ClusterHostname);
        Assert.Null(o.HoconFile);
        // The operator channel is the root-only Unix socket; TCP (which cannot tell who connects) is off.
        Assert.Equal(0, o.CmdPort);
        Assert.Equal("/run/flannel/flanneld.sock", o.CmdSocket);
        Assert.Equal(LogFormat.Text, o.LogFormat);
        Assert.Equal(LogLevel.Information, o.LogLevel);
        Assert.Equal("host-a", o.NodeName);
        Assert.False(o.UseNftables);
        Assert.False(o.ShowVersion);
        Assert.False(o.ShowHelp);
    }

    [Fact]
    public void Every_flag_is_read()
    {
        var o = Parse([
            "--iface", "eth1", "--iface=10.0.0.5", "--iface-regex", "^eth[0-9]+$", "--iface-can-reach", "192.0.2.1",
            "--public-ip", "198.51.100.7", "--subnet-file", "/tmp/s.env", "--net-config-path", "/tmp/n.json", "--ip-masq",
            "--ip-masq-fully-random-disable", "--iptables-resync", "30", "--iptables-forward-rules=false",
            "--subnet-lease-renew-margin", "120", "--healthz-ip", "127.0.0.1", "--healthz-port", "8081", "--kube-subnet-mgr",
            "--kube-api-url", "https://10.96.0.1:443", "--kubeconfig-file", "/root/.kube/config", "--kube-annotation-prefix",
            "example.com", "--set-node-network-unavailable=false", "--cluster-seeds", "10.1.0.1:4053, node-b:5000,node-c",
            "--cluster-port", "4100", "--cluster-hostname", "node-a.local", "--hocon-file", "/etc/flannel/extra.hocon",
            "--cmd-port", "9111", "--cmd-socket", "/tmp/f.sock", "--log-format", "json", "--log-level", "debug",
            "--node-name", "n1", "--use-nftables", "--release-startup-pages=false",
        ]);
        Assert.False(o.ReleaseStartupPages);
        Assert.Equal(["eth1", "10.0.0.5"], o.Iface);
        Assert.Equal("^eth[0-9]+$", Assert.Single(o.IfaceRegex).ToString());
        Assert.Equal(IPAddress.Parse("192.0.2.1"), o.IfaceCanReach);
        Assert.Equal(IPAddress.Parse("198.51.100.7"), o.PublicIp);
        Assert.Equal("/tmp/s.env", o.SubnetFile);
        Assert.Equal("/tmp/n.json", o.NetConfigPath);
        Assert.True(o.IpMasq);
        Assert.True(o.IpMasqFullyRandomDisable);
        Assert.Equal(TimeSpan.FromSeconds(30), o.IptablesResync);
        Assert.False(o.IptablesForwardRules);
        Assert.Equal(TimeSpan.FromMinutes(120), o.SubnetLeaseRenewMargin);
        Assert.Equal(IPAddress.Loopback, o.HealthzIp);
        Assert.Equal(8081, o.HealthzPort);
        Assert.True(o.KubeSubnetMgr);
        Assert.Equal("https://10.96.0.1:443", o.KubeApiUrl);
        Assert.Equal("/root/.kube/config", o.KubeconfigFile);
        Assert.Equal("example.com", o.KubeAnnotationPrefix);
        Assert.False(o.SetNodeNetworkUnavailable);
        Assert.Equal([new ClusterSeed("10.1.0.1", 4053), new ClusterSeed("node-b", 5000), new ClusterSeed("node-c", 4100)], o.ClusterSeeds);
        Assert.Equal(4100, o.ClusterPort);
        Assert.Equal("node-a.local", o.ClusterHostname);
        Assert.Equal("/etc/flannel/extra.hocon", o.HoconFile);
        Assert.Equal(9111, o.CmdPort);
        Assert.Equal("/tmp/f.sock", o.CmdSocket);
        Assert.Equal(LogFormat.Json, o.LogFormat);
        Assert.Equal(LogLevel.Debug, o.LogLevel);
        Assert.Equal("n1", o.NodeName);
        Assert.True(o.UseNftables);
    }

    [Fact]
    public void An_empty_cmd_socket_disables_it_and_the_env_names_another()
    {
        Assert.Null(Parse(["--cmd-socket", ""]).CmdSocket);
        Assert.Null(Parse(["--cmd-socket="]).CmdSocket);
        Assert.Equal("/var/run/f.sock", Parse([], new() { ["FLANNELD_CMD_SOCKET"] = "/var/run/f.sock" }).CmdSocket);
        Assert.Equal(9110, Parse([], new() { ["FLANNELD_CMD_PORT"] = "9110" }).CmdPort);
        var tooLong = "/" + new string('s', 107);
        var e = Assert.Throws<FlanneldOptionsException>(() => Parse(["--cmd-socket", tooLong]));
        Assert.Contains("is longer than 107 bytes (the limit of a Unix socket path)", e.Message);
    }

    [Fact]
    public void The_lease_store_defaults_to_var_lib_and_an_empty_value_keeps_leases_in_memory_only()
    {
        Assert.Equal("/var/lib/flannel/leases", Parse([]).LeaseStore);
        Assert.Equal("/srv/flannel/leases", Parse(["--lease-store", "/srv/flannel/leases"]).LeaseStore);
        Assert.Equal("/srv/l", Parse([], new() { ["FLANNELD_LEASE_STORE"] = "/srv/l" }).LeaseStore);
        Assert.Null(Parse(["--lease-store", ""]).LeaseStore);
        Assert.Null(Parse(["--lease-store="]).LeaseStore);
    }

    [Fact]
    public void Go_style_single_dash_flags_are_accepted()
    {
        var o = Parse(["-iface=eth2", "-ip-masq", "-kube-subnet-mgr"]);
        Assert.Equal(["eth2"], o.Iface);
        Assert.True(o.IpMasq);
        Assert.True(o.KubeSubnetMgr);
    }

    [Fact]
    public void Env_is_used_when_the_flag_is_absent()
    {
        var o = Parse([], new()
        {
            ["FLANNELD_IFACE"] = "eth0,10.0.0.9",
            ["FLANNELD_IFACE_REGEX"] = "^en[a-z]{1,3}",
            ["FLANNELD_IP_MASQ"] = "1",
            ["FLANNELD_IPTABLES_FORWARD_RULES"] = "False",
            ["FLANNELD_SUBNET_LEASE_RENEW_MARGIN"] = "30",
            ["FLANNELD_HEALTHZ_PORT"] = "8081",
            ["FLANNELD_PUBLIC_IP"] = "203.0.113.4",
            ["FLANNELD_CLUSTER_SEEDS"] = "a:1,b:2",
            ["FLANNELD_IPTABLES_RESYNC"] = "1m",
        });
        Assert.Equal(["eth0", "10.0.0.9"], o.Iface);
        Assert.Equal("^en[a-z]{1,3}", Assert.Single(o.IfaceRegex).ToString());
        Assert.True(o.IpMasq);
        Assert.False(o.IptablesForwardRules);
        Assert.Equal(TimeSpan.FromMinutes(30), o.SubnetLeaseRenewMargin);
        Assert.Equal(8081, o.HealthzPort);
        Assert.Equal(IPAddress.Parse("203.0.113.4"), o.PublicIp);
        Assert.Equal([new ClusterSeed("a", 1), new ClusterSeed("b", 2)], o.ClusterSeeds);
        Assert.Equal(TimeSpan.FromMinutes(1), o.IptablesResync);
    }

    [Fact]
    public void A_given_flag_wins_over_its_env_variable()
    {
        var o = Parse(["--healthz-port=9000", "--iface", "eth7", "--ip-masq=false"], new()
        {
            ["FLANNELD_HEALTHZ_PORT"] = "8081",
            ["FLANNELD_IFACE"] = "eth0",
            ["FLANNELD_IP_MASQ"] = "true",
        });
        Assert.Equal(9000, o.HealthzPort);
        Assert.Equal(["eth7"], o.Iface);
        Assert.False(o.IpMasq);
    }

    [Fact]
    public void Empty_env_values_are_ignored_like_flannel()
    {
        var o = Parse([], new() { ["FLANNELD_SUBNET_FILE"] = "", ["FLANNELD_HEALTHZ_PORT"] = "" });
        Assert.Equal("/run/flannel/subnet.env", o.SubnetFile);
        Assert.Equal(0, o.HealthzPort);
    }

    [Fact]
    public void Node_name_comes_from_the_flag_then_NODE_NAME_then_the_host_name()
    {
        Assert.Equal("from-env", Parse([], new() { ["NODE_NAME"] = "from-env" }).NodeName);
        Assert.Equal("from-flag", Parse(["--node-name", "from-flag"], new() { ["NODE_NAME"] = "from-env" }).NodeName);
        Assert.Equal("from-flagenv", Parse([], new() { ["FLANNELD_NODE_NAME"] = "from-flagenv", ["NODE_NAME"] = "x" }).NodeName);
        var pod = Parse([], new() { ["POD_NAME"] = "kube-flannel-ds-abc", ["POD_NAMESPACE"] = "kube-flannel" });
        Assert.Equal(("kube-flannel-ds-abc", "kube-flannel"), (pod.PodName, pod.PodNamespace));
    }

    [Theory]
    [InlineData("--subnet-lease-renew-margin", "0", "--subnet-lease-renew-margin: \"0\" is out of range: must be 1..1439 minutes")]
    [InlineData("--subnet-lease-renew-margin", "1440", "--subnet-lease-renew-margin: \"1440\" is out of range")]
    [InlineData("--healthz-port", "70000", "--healthz-port: \"70000\" is not a port")]
    [InlineData("--cmd-port", "x", "--cmd-port: \"x\" is not a port")]
    [InlineData("--cmd-socket", "run/f.sock", "--cmd-socket: \"run/f.sock\" is not an absolute path")]
    [InlineData("--cmd-socket", "/run/flannel/", "--cmd-socket: \"/run/flannel/\" names a directory, not a socket file")]
    [InlineData("--lease-store", "leases", "--lease-store: \"leases\" is not an absolute path")]
    [InlineData("--lease-store", "/var/lib/flannel/", "--lease-store: \"/var/lib/flannel/\" names a directory, not a file")]
    [InlineData("--cluster-port", "0", "--cluster-port: \"0\" is not a port")]
    [InlineData("--public-ip", "1.2.3", "--public-ip: \"1.2.3\" is not an IPv4 address")]
    [InlineData("--healthz-ip", "::1", "--healthz-ip: \"::1\" is not an IPv4 address")]
    [InlineData("--iface-can-reach", "host", "--iface-can-reach: \"host\" is not an IPv4 address")]
    [InlineData("--iface-regex", "eth[", "--iface-regex: \"eth[\" is not a valid regex")]
    [InlineData("--iptables-resync", "0", "--iptables-resync: \"0\" is not a positive duration")]
    [InlineData("--iptables-resync", "soon", "--iptables-resync: \"soon\" is not a positive duration")]
    [InlineData("--cluster-seeds", "a:1,b:x", "--cluster-seeds: \"b:x\" is not host:port")]
    [InlineData("--cluster-form-alone-after", "later", "--cluster-form-alone-after: \"later\" is not a duration")]
    [InlineData("--log-format", "xml", "--log-format: \"xml\" is not text or json")]
    [InlineData("--udp-datapath", "xdp", "--udp-datapath: \"xdp\" is not auto, bpf or tun")]
    [InlineData("--log-level", "loud", "--log-level: \"loud\" is not a log level")]
    [InlineData("--kube-api-url", "not a url", "--kube-api-url: \"not a url\" is not an absolute URL")]
    public void Bad_values_name_the_flag(string flag, string value, string expected)
    {
        var e = Assert.Throws<FlanneldOptionsException>(() => Parse([flag, value]));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Cluster_form_alone_after_is_never_by_default_and_a_duration_when_given()
    {
        Assert.Null(Parse([]).ClusterFormAloneAfter);
        Assert.Null(Parse(["--cluster-form-alone-after", "0"]).ClusterFormAloneAfter);
        Assert.Equal(TimeSpan.FromMinutes(10), Parse(["--cluster-form-alone-after", "10m"]).ClusterFormAloneAfter);
    }

    [Fact]
    public void Bad_env_values_name_the_flag_and_the_variable()
    {
        var e = Assert.Throws<FlanneldOptionsException>(() => Parse([], new() { ["FLANNELD_SUBNET_LEASE_RENEW_MARGIN"] = "5000" }));
        Assert.Contains("--subnet-lease-renew-margin (from FLANNELD_SUBNET_LEASE_RENEW_MARGIN): \"5000\"", e.Message);
        var b = Assert.Throws<FlanneldOptionsException>(() => Parse([], new() { ["FLANNELD_IP_MASQ"] = "maybe" }));
        Assert.Contains("--ip-masq (from FLANNELD_IP_MASQ): \"maybe\" is not a boolean", b.Message);
    }

    [Fact]
    public void Unknown_flags_and_missing_values_are_errors()
    {
        Assert.Contains("--nope", Assert.Throws<FlanneldOptionsException>(() => Parse(["--nope"])).Message);
        Assert.Contains("--healthz-port", Assert.Throws<FlanneldOptionsException>(() => Parse(["--healthz-port"])).Message);
    }

    [Fact]
    public void Version_and_help_are_reported()
    {
        Assert.True(Parse(["--version"]).ShowVersion);
        Assert.True(Parse(["--help"]).ShowHelp);
        var help = FlanneldOptions.HelpText();
        Assert.Contains("--iface-can-reach", help);
        Assert.Contains("--cluster-seeds", help);
        Assert.Contains("FLANNELD_<FLAG>", help);
    }

    [Theory]
    [InlineData("--iface", "FLANNELD_IFACE")]
    [InlineData("--subnet-lease-renew-margin", "FLANNELD_SUBNET_LEASE_RENEW_MARGIN")]
    [InlineData("kube-api-url", "FLANNELD_KUBE_API_URL")]
    public void Env_names_follow_flannel(string flag, string env) => Assert.Equal(env, FlanneldOptions.EnvName(flag));

    [Fact]
    public void Interface_selection_carries_the_selection_flags()
    {
        var s = Parse(["--iface", "eth0", "--public-ip", "203.0.113.9"]).InterfaceSelection;
        Assert.Equal(["eth0"], s.Iface);
        Assert.Equal(IPAddress.Parse("203.0.113.9"), s.PublicIp);
    }
}
