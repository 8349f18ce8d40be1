using System.Globalization;
using System.Net;
using Flannel.E2E.Agent;
using Flannel.Demo;
using Flannel.Host.Security;
using Flannel.Testing;
using Xunit;

namespace Flannel.E2E.Security;

/// <summary>A 3-host TLS cluster (the demo's topology, host-gw: the cheapest backend) for the stranger tests.</summary>
public sealed class SecuredCluster : IAsyncLifetime
{
    public ClusterTopology Topology { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Topology = ClusterTopology.Create(new TopologyOptions($"fy{Environment.ProcessId % 10000}", AgentCluster.Flanneld)
        {
            Backend = "host-gw",
            StateRoot = "/run/flannel-e2e",
            KeepLogsIn = Path.Combine(Path.GetTempPath(), "flannel-e2e-logs", "security"),
        });
        try
        {
            Topology.StartAgents();
            await Topology.WaitReadyAsync(TimeSpan.FromSeconds(90));
        }
        catch
        {
            Topology.Dispose();
            throw;
        }
    }

    public Task DisposeAsync()
    {
        Topology?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Threat T1 end to end: machines on the underlay that run flanneld without the cluster credential (plain text with
/// --cluster-insecure, or TLS with a certificate of another CA) and name host 1 as their seed never become members, the
/// leases do not change, and host 1 logs the refused handshakes (event 4003) with their addresses.
/// </summary>
[Collection(AgentE2ECollection.Name)]
public sealed class StrangerNodeTests(SecuredCluster cluster) : IClassFixture<SecuredCluster>
{
    private ClusterTopology Topology => cluster.Topology;

    [Fact]
    public async Task Strangers_on_the_underlay_never_join_the_TLS_cluster_and_host_1_logs_their_refused_handshakes()
    {
        var host1 = Topology.Hosts[0];
        List<Flannel.Host.Health.StatusView> before = [];
        await Poll.UntilAsync(async () =>
        {
            before = await Snapshot();
            return before.All(s => s.Members.Count(m => m.Status == "Up") == 3 && s.Leases.Count == 3);
        }, TimeSpan.FromSeconds(60), "every host sees 3 members Up and 3 leases");
        var leasesBefore = before[0].Leases.ToDictionary(l => l.Subnet, l => l.Node);

        var baseBytes = Topology.Options.Underlay.BaseAddress.GetAddressBytes();
        IPAddress At(byte last) => new([baseBytes[0], baseBytes[1], baseBytes[2], last]);
        var plainAddress = At(200);
        var otherCaAddress = At(201);
        var seed = $"{host1.Address}:{Topology.Options.ClusterPort.ToString(CultureInfo.InvariantCulture)}";

        // A stranger in plain text: it has no credential and says so.
        var plain = StartStranger("plain", plainAddress, ["--cluster-seeds", seed, "--cluster-insecure"]);
        // A stranger with TLS, but a certificate of its own CA.
        var otherDir = Path.Combine(Topology.StateDir, "other-ca");
        using (var otherCa = ClusterCertificates.CreateCa("stranger CA", TimeSpan.FromDays(1)))
        using (var cert = ClusterCertificates.CreateNode(otherCa, "stranger", [otherCaAddress], [], TimeSpan.FromDays(1)))
            CredentialFiles.WriteNode(otherDir, cert, otherCa.ExportCertificatePem(), force: false);
        var other = StartStranger("otherca", otherCaAddress, ["--cluster-seeds", seed,
            "--cluster-tls-cert", Path.Combine(otherDir, "tls.crt"), "--cluster-tls-key", Path.Combine(otherDir, "tls.key"),
            "--cluster-tls-ca", Path.Combine(otherDir, "ca.crt")]);

        try
        {
            await Poll.UntilAsync(() =>
            {
                var log = File.ReadAllText(host1.LogFile);
                return Refused(log, plainAddress) && Refused(log, otherCaAddress);
            }, TimeSpan.FromSeconds(60), $"host1 logs refused handshakes from {plainAddress} and {otherCaAddress}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n--- host1 ---\n{ClusterTopology.Tail(host1.LogFile, 20)}" +
                $"\n--- plain ---\n{ClusterTopology.Tail(plain.Log, 15)}\n--- other CA ---\n{ClusterTopology.Tail(other.Log, 15)}", e);
        }

        // The strangers kept trying meanwhile; the members and leases are what they were.
        var after = await Snapshot();
        var members = Topology.Hosts.Select(h => $"akka.ssl.tcp://flannel@{h.Address}:{Topology.Options.ClusterPort}").Order().ToList();
        foreach (var s in after)
        {
            Assert.Equal(members, s.Members.Select(m => m.Address).Order());
            Assert.All(s.Members, m => Assert.Equal("Up", m.Status));
            Assert.Equal(leasesBefore, s.Leases.ToDictionary(l => l.Subnet, l => l.Node));
        }
        // Neither stranger got anywhere: no lease, no subnet.env.
        Assert.False(File.Exists(plain.SubnetFile));
        Assert.False(File.Exists(other.SubnetFile));
        Assert.Contains("cluster transport WITHOUT TLS", File.ReadAllText(plain.Log));
    }

    private static bool Refused(string log, IPAddress from) =>
        log.Split('\n').Any(l => l.Contains("[4003]", StringComparison.Ordinal) && (l.Contains(from + "]:", StringComparison.Ordinal) || l.Contains(from + ":", StringComparison.Ordinal)));

    private async Task<List<Flannel.Host.Health.StatusView>> Snapshot()
    {
        var result = new List<Flannel.Host.Health.StatusView>();
        foreach (var h in Topology.Hosts) result.Add(await h.Client!.StatusAsync());
        return result;
    }

    private sealed record Stranger(string Namespace, string Log, string SubnetFile);

    private Stranger StartStranger(string name, IPAddress address, IReadOnlyList<string> clusterArgs)
    {
        var ns = Topology.AttachNamespace(name, address);
        var dir = Path.Combine(Topology.StateDir, "stranger-" + name);
        Directory.CreateDirectory(dir);
        var stranger = new Stranger(ns, Path.Combine(dir, "flanneld.log"), Path.Combine(dir, "subnet.env"));
        Topology.StartInNamespace(ns, Topology.Options.Flanneld,
        [
            "--iface", "eth0", "--net-config-path", Topology.NetConfPath, "--subnet-file", stranger.SubnetFile,
            "--lease-store", Path.Combine(dir, "leases"),
            "--node-name", "stranger-" + name, "--cluster-port", Topology.Options.ClusterPort.ToString(CultureInfo.InvariantCulture),
            .. clusterArgs,
        ], stranger.Log);
        return stranger;
    }
}
