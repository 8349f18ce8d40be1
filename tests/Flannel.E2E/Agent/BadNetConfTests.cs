using Flannel.Demo;
using Xunit;

namespace Flannel.E2E.Agent;

/// <summary>flanneld refuses a bad net-conf.json at start: the error names the field, the exit code is not 0.</summary>
[Collection(AgentE2ECollection.Name)]
public sealed class BadNetConfTests : IDisposable
{
    private readonly string _ns = $"fb{Environment.ProcessId % 10000}x{Guid.NewGuid().ToString("N")[..6]}";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "flannel-badconf-" + Guid.NewGuid().ToString("N")[..8]);

    public BadNetConfTests()
    {
        Netns.Add(_ns);
        Netns.Sh(_ns, "ip link set lo up");
        Directory.CreateDirectory(_dir);
    }

    [Theory]
    [InlineData("""{"Network":"10.244.0.0/16","SubnetLen":31}""", "SubnetLen")]
    [InlineData("""{"Network":"10.244.0.0/33"}""", "Network")]
    [InlineData("""{"Network":"10.244.0.0/16","Backend":{"Port":8285}}""", "Type")]
    [InlineData("""{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":"one"}}""", "Backend.VNI \"one\"")]
    // Truncated: no field to name; the error says what is wrong with the text.
    [InlineData("""{"Network":"10.244.0.0/16",""", "invalid JSON")]
    public void Malformed_net_conf_exits_non_zero_with_an_error_naming_the_field(string json, string field)
    {
        var conf = Path.Combine(_dir, "net-conf.json");
        File.WriteAllText(conf, json);
        var r = Netns.Exec(_ns, AgentCluster.Flanneld,
            ["--iface", "lo", "--net-config-path", conf, "--subnet-file", Path.Combine(_dir, "subnet.env"),
                "--lease-store", Path.Combine(_dir, "leases"), "--cmd-socket", Path.Combine(_dir, "flanneld.sock")],
            TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, r.ExitCode);
        // Without the file's path, which the error starts with: the field must be in what the error says.
        var error = r.Stderr.Replace(conf, "<net-config-path>", StringComparison.Ordinal);
        Assert.Contains(field, error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "subnet.env")));
    }

    public void Dispose()
    {
        Netns.Delete(_ns);
        Directory.Delete(_dir, recursive: true);
    }
}
