using Flannel.E2E.Agent;
using Flannel.Demo;
using Xunit;

namespace Flannel.E2E.Security;

/// <summary>
/// The secure default at start, with the real binary in a namespace of its own: a node that would join others without
/// TLS refuses to start and names the flags; an unusable credential file is named with its flag; neither touches the
/// kernel or writes subnet.env.
/// </summary>
[Collection(AgentE2ECollection.Name)]
public sealed class TransportStartTests : IDisposable
{
    private readonly string _ns = $"ft{Environment.ProcessId % 10000}x{Guid.NewGuid().ToString("N")[..6]}";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "flannel-tlsstart-" + Guid.NewGuid().ToString("N")[..8]);

    public TransportStartTests()
    {
        Netns.Add(_ns);
        Netns.Sh(_ns, "ip link set lo up");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "net-conf.json"), """{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}""");
    }

    private ProcessRunner.Result Flanneld(params string[] args) =>
        Netns.Exec(_ns, AgentCluster.Flanneld,
            ["--iface", "lo", "--net-config-path", Path.Combine(_dir, "net-conf.json"), "--subnet-file", Path.Combine(_dir, "subnet.env"),
             "--lease-store", Path.Combine(_dir, "leases"), "--cmd-port", "0", .. args],
            TimeSpan.FromSeconds(60));

    [Fact]
    public void Joining_other_nodes_without_TLS_is_refused_naming_the_flags_and_a_bad_credential_file_is_named()
    {
        var r = Flanneld("--cluster-seeds", "198.18.0.9:4053");
        Assert.Equal(1, r.ExitCode);
        foreach (var flag in new[] { "--cluster-tls-cert", "--cluster-tls-key", "--cluster-tls-ca", "--cluster-insecure" })
            Assert.Contains(flag, r.Stderr);

        var missing = Path.Combine(_dir, "nope.crt");
        File.WriteAllText(Path.Combine(_dir, "junk.key"), "junk");
        r = Flanneld("--cluster-seeds", "198.18.0.9:4053", "--cluster-tls-cert", missing, "--cluster-tls-key", Path.Combine(_dir, "junk.key"),
            "--cluster-tls-ca", Path.Combine(_dir, "junk.key"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"--cluster-tls-ca: {Path.Combine(_dir, "junk.key")} holds no PEM certificate", r.Stderr);

        r = Flanneld("--cluster-tls-cert", missing);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--cluster-tls-key and --cluster-tls-ca missing", r.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "subnet.env")));
    }

    public void Dispose()
    {
        Netns.Delete(_ns);
        Directory.Delete(_dir, recursive: true);
    }
}
