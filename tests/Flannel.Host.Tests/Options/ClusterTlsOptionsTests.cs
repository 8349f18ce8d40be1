using System.Collections;
using Flannel.Host.Options;
using Xunit;

namespace Flannel.Host.Tests.Options;

/// <summary>--cluster-tls-cert/-key/-ca and --cluster-insecure (also FLANNELD_CLUSTER_TLS_* / FLANNELD_CLUSTER_INSECURE).</summary>
public sealed class ClusterTlsOptionsTests
{
    private static FlanneldOptions Parse(string[] args, Dictionary<string, string>? env = null) =>
        FlanneldOptions.Parse(args, new Hashtable(env ?? new Dictionary<string, string>()), hostName: "host-a");

    [Fact]
    public void By_default_no_TLS_and_not_insecure()
    {
        var o = Parse([]);
        Assert.Null(o.ClusterTlsCert);
        Assert.Null(o.ClusterTlsKey);
        Assert.Null(o.ClusterTlsCa);
        Assert.False(o.HasClusterTls);
        Assert.False(o.ClusterInsecure);
    }

    [Fact]
    public void The_three_files_come_from_flags_or_env()
    {
        var o = Parse(["--cluster-tls-cert", "/tls/tls.crt", "--cluster-tls-key=/tls/tls.key", "-cluster-tls-ca", "/tls/ca.crt"]);
        Assert.Equal(("/tls/tls.crt", "/tls/tls.key", "/tls/ca.crt"), (o.ClusterTlsCert, o.ClusterTlsKey, o.ClusterTlsCa));
        Assert.True(o.HasClusterTls);

        var e = Parse([], new()
        {
            ["FLANNELD_CLUSTER_TLS_CERT"] = "/e/tls.crt", ["FLANNELD_CLUSTER_TLS_KEY"] = "/e/tls.key", ["FLANNELD_CLUSTER_TLS_CA"] = "/e/ca.crt",
        });
        Assert.Equal(("/e/tls.crt", "/e/tls.key", "/e/ca.crt"), (e.ClusterTlsCert, e.ClusterTlsKey, e.ClusterTlsCa));
        Assert.True(Parse(["--cluster-insecure"]).ClusterInsecure);
        Assert.True(Parse([], new() { ["FLANNELD_CLUSTER_INSECURE"] = "true" }).ClusterInsecure);
        Assert.Contains("--cluster-tls-ca", FlanneldOptions.HelpText());
        Assert.Contains("--cluster-insecure", FlanneldOptions.HelpText());
    }

    [Theory]
    [InlineData(new[] { "--cluster-tls-cert", "/c" }, "--cluster-tls-key and --cluster-tls-ca missing: --cluster-tls-cert needs")]
    [InlineData(new[] { "--cluster-tls-cert", "/c", "--cluster-tls-key", "/k" }, "--cluster-tls-ca missing: --cluster-tls-cert, --cluster-tls-key needs")]
    [InlineData(new[] { "--cluster-tls-ca", "/a", "--cluster-tls-key", "/k" }, "--cluster-tls-cert missing")]
    public void A_partial_set_names_the_missing_flags(string[] args, string expected) =>
        Assert.Contains(expected, Assert.Throws<FlanneldOptionsException>(() => Parse(args)).Message);

    [Fact]
    public void A_partial_set_from_env_names_the_variable_and_insecure_with_TLS_is_a_contradiction()
    {
        var e = Assert.Throws<FlanneldOptionsException>(() => Parse([], new() { ["FLANNELD_CLUSTER_TLS_KEY"] = "/k" }));
        Assert.Contains("--cluster-tls-key (from FLANNELD_CLUSTER_TLS_KEY) needs", e.Message);
        Assert.Contains("--cluster-tls-cert and --cluster-tls-ca missing", e.Message);
        var c = Assert.Throws<FlanneldOptionsException>(() =>
            Parse(["--cluster-insecure", "--cluster-tls-cert", "/c", "--cluster-tls-key", "/k", "--cluster-tls-ca", "/a"]));
        Assert.Contains("--cluster-insecure contradicts --cluster-tls-*", c.Message);
    }
}
