using System.Diagnostics;
using Flannel.E2E.Agent;
using Flannel.Demo;
using Flannel.Net.SubnetEnv;
using Xunit;
using Xunit.Abstractions;

namespace Flannel.E2E.Durability;

/// <summary>
/// The durable lease store across a restart of every agent (issue 13): leases live in each host's --lease-store file,
/// so a host that stays down while the others restart keeps its subnet, and a host that joins meanwhile never gets it.
/// </summary>
[Collection(AgentE2ECollection.Name)]
public sealed class WholeClusterRestartTests(ITestOutputHelper output) : IDisposable
{
    private static int _counter;
    private ClusterTopology? _topology;

    // Four subnets for four hosts: when hosts 1-3 hold three, a joining host 4 has exactly one free subnet unless it may
    // take the subnet of host 3 while host 3 is down (without the store it gets host 3's with probability 1/2).
    private const string NetConf =
        """{"Network":"10.244.0.0/16","SubnetLen":24,"SubnetMin":"10.244.1.0","SubnetMax":"10.244.4.0","Backend":{"Type":"host-gw"}}""";

    [Fact]
    public async Task After_every_agent_restarts_a_host_still_down_keeps_its_subnet_a_new_host_gets_another_and_it_comes_back_to_its_own()
    {
        var clock = Stopwatch.StartNew();
        var prefix = $"du{Environment.ProcessId % 10000}r{Interlocked.Increment(ref _counter)}";
        _topology = ClusterTopology.Create(new TopologyOptions(prefix, AgentCluster.Flanneld)
        {
            Hosts = 4,
            Backend = "host-gw",
            NetConfJson = NetConf,
            StateRoot = "/run/flannel-e2e",
            KeepLogsIn = Path.Combine(Path.GetTempPath(), "flannel-e2e-logs", "durability"),
        });
        var t = _topology;
        var (h1, h2, h3, h4) = (t.Hosts[0], t.Hosts[1], t.Hosts[2], t.Hosts[3]);

        // Hosts 1-3 form the cluster and take three of the four subnets.
        foreach (var h in new[] { h1, h2, h3 }) t.StartAgent(h);
        await t.WaitReadyAsync(TimeSpan.FromSeconds(60), [h1, h2, h3]);
        var before = new Dictionary<string, string>();
        foreach (var h in new[] { h1, h2, h3 }) before[h.NodeName] = (await h.Client!.StatusAsync()).Lease!.Subnet;
        Assert.Equal(3, before.Values.Distinct().Count());
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: hosts 1-3 ready: {string.Join(", ", before)}");

        // Every agent stops (SIGTERM at once, as a cluster-wide restart would).
        foreach (var h in new[] { h1, h2, h3 }) ProcessRunner.Run("kill", ["-TERM", h.Agent!.Id.ToString()]);
        foreach (var h in new[] { h1, h2, h3 }) Assert.Equal(0, t.StopAgent(h));
        Assert.All(new[] { h1, h2, h3 }, h => Assert.True(File.Exists(h.LeaseStore), $"{h.NodeName} wrote no lease store"));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: all agents stopped");

        // Hosts 1 and 2 come back; host 3 stays down. Its lease is in their table: loaded from their stores.
        t.StartAgent(h1);
        t.StartAgent(h2);
        await t.WaitReadyAsync(TimeSpan.FromSeconds(60), [h1, h2]);
        var table = (await h1.Client!.StatusAsync()).Leases;
        var kept = Assert.Single(table, l => l.Node == h3.NodeName);
        Assert.Equal(before[h3.NodeName], kept.Subnet);
        Assert.True(kept.Expiration > DateTimeOffset.UtcNow.AddHours(23), $"host3's lease expires {kept.Expiration:o}");
        Assert.Contains("lease store", File.ReadAllText(h1.LogFile), StringComparison.Ordinal);
        Assert.Contains("loaded", File.ReadAllText(h1.LogFile), StringComparison.Ordinal);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: hosts 1-2 ready again, host3's lease {kept.Subnet} kept");

        // A new host joins: it gets the one free subnet, never host 3's.
        t.StartAgent(h4);
        await t.WaitReadyAsync(TimeSpan.FromSeconds(60), [h1, h2, h4]);
        var fresh = (await h4.Client!.StatusAsync()).Lease!.Subnet;
        Assert.DoesNotContain(fresh, before.Values);
        Assert.Equal(before[h1.NodeName], (await h1.Client.StatusAsync()).Lease!.Subnet);
        Assert.Equal(before[h2.NodeName], (await h2.Client!.StatusAsync()).Lease!.Subnet);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: host4 joined with {fresh}");

        // Host 3 returns to its own subnet; four hosts, four distinct subnets, subnet.env as leased.
        t.StartAgent(h3);
        await t.WaitReadyAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(before[h3.NodeName], (await h3.Client!.StatusAsync()).Lease!.Subnet);
        var subnets = new List<string>();
        foreach (var h in t.Hosts)
        {
            var lease = (await h.Client!.StatusAsync()).Lease!.Subnet;
            Assert.Equal(lease, SubnetEnvFile.Read(h.SubnetFile).Lease.ToString());
            subnets.Add(lease);
        }
        Assert.Equal(4, subnets.Distinct().Count());
        var final = (await h1.Client.StatusAsync()).Leases;
        Assert.Equal(4, final.Count);
        Assert.Equal(4, final.Select(l => l.Subnet).Distinct().Count());
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: host3 back on {before[h3.NodeName]}");
    }

    public void Dispose() => _topology?.Dispose();
}
