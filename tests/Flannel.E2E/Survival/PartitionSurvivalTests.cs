using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Flannel.E2E.Agent;
using Flannel.E2E.Ctl;
using Flannel.Host.Ctl;
using Flannel.Demo;
using Flannel.Host.Health;
using Flannel.Net.SubnetEnv;
using Flannel.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Flannel.E2E.Survival;

/// <summary>
/// Issue #13, survival: hosts 4 and 5 are cut off from hosts 1-3 for longer than the split-brain resolver's decision
/// (stable-after 10 s in hocon/akka.hocon, not shortened here), so the minority's actor systems are downed. No flanneld
/// may exit: the udp tunnels keep forwarding inside each side, /readyz and `ctl cluster show` say "partitioned", and the
/// downed agents rejoin as new incarnations within 15 s of the heal, on the subnets they had.
/// </summary>
[Collection(AgentE2ECollection.Name)]
public sealed class PartitionSurvivalTests(SurvivalCluster cluster, ITestOutputHelper output) : IClassFixture<SurvivalCluster>
{
    private static readonly TimeSpan RejoinGoal = TimeSpan.FromSeconds(15);
    private ClusterTopology Topology => cluster.Topology;

    [Fact]
    public async Task A_cut_off_minority_keeps_forwarding_is_partitioned_and_rejoins_without_a_restart()
    {
        await cluster.EnsureReadyAsync();
        // Cut only a converged cluster: right after the fixture's joins, a host can still see others as Joining (not
        // counted for the majority) and so judge itself on the majority side when cut off; CI saw that once.
        await WaitConvergedAsync(TimeSpan.FromSeconds(60));
        var pids = Topology.Hosts.ToDictionary(h => h.NodeName, h => h.Agent!.Id);
        var subnets = SubnetEnvs();
        var leftBefore = cluster.Minority.ToDictionary(h => h.NodeName, ClusterLeftCount);

        Topology.CutOff(cluster.Minority);
        string[] pingLogs;
        try
        {
            // Pods on each side keep talking through their udp tunnels for the whole cut, downing included.
            pingLogs = [StartPing(cluster.PodOn(Topology.Hosts[0]), cluster.PodOn(Topology.Hosts[1])),
                StartPing(cluster.PodOn(Topology.Hosts[3]), cluster.PodOn(Topology.Hosts[4]))];
            await AssertPartitionedAsync(cluster.Minority, TimeSpan.FromSeconds(30));
            // The resolver downs the minority: each of its agents logs ClusterLeft (4100) and stays up.
            await Poll.UntilAsync(() => cluster.Minority.All(h => ClusterLeftCount(h) > leftBefore[h.NodeName]), TimeSpan.FromSeconds(60),
                "the minority's actor systems downed (ClusterLeft logged)", 250);
            await Task.Delay(TimeSpan.FromSeconds(3));
            foreach (var h in cluster.Minority) AssertClusterShowPartitioned(h);
            foreach (var h in Topology.Hosts) Assert.False(h.Agent!.HasExited, $"{h.NodeName}: flanneld exited during the cut\n{ClusterTopology.Tail(h.LogFile, 30)}");
        }
        finally
        {
            StopPings();
            Topology.Heal();
        }
        var healed = Stopwatch.StartNew();
        await WaitConvergedAsync(TimeSpan.FromSeconds(60));
        var rejoin = healed.Elapsed;
        output.WriteLine($"rejoined (all 5 members Up and reachable everywhere, every agent ready) {rejoin.TotalSeconds:0.0} s after the heal");

        foreach (var log in pingLogs)
        {
            var (sent, received) = PingSummary(log);
            output.WriteLine($"{Path.GetFileName(log)}: {received}/{sent} replies during the cut");
            Assert.True(sent >= 20 && received >= sent * 0.9, $"{Path.GetFileName(log)}: {received}/{sent} replies during the cut");
        }
        Assert.True(rejoin <= RejoinGoal, $"rejoin took {rejoin.TotalSeconds:0.0} s after the heal (goal {RejoinGoal.TotalSeconds} s)");
        AssertCrossPings();
        foreach (var h in Topology.Hosts)
        {
            Assert.False(h.Agent!.HasExited, $"{h.NodeName} exited");
            Assert.Equal(pids[h.NodeName], h.Agent.Id);
        }
        Assert.Equal(subnets, SubnetEnvs());
        await AssertNoDuplicatesAsync(subnets);
    }

    [Fact]
    public async Task A_minority_agent_restarted_during_the_cut_takes_no_subnet_and_comes_back_on_its_own()
    {
        await cluster.EnsureReadyAsync();
        // Cut only a converged cluster: right after the fixture's joins, a host can still see others as Joining (not
        // counted for the majority) and so judge itself on the majority side when cut off; CI saw that once.
        await WaitConvergedAsync(TimeSpan.FromSeconds(60));
        var restarted = Topology.Hosts[4];
        var stays = Topology.Hosts[3];
        var pids = Topology.Hosts.Where(h => h != restarted).ToDictionary(h => h.NodeName, h => h.Agent!.Id);
        var subnets = SubnetEnvs();
        var leftBefore = ClusterLeftCount(stays);

        Topology.CutOff(cluster.Minority);
        try
        {
            await AssertPartitionedAsync([restarted], TimeSpan.FromSeconds(30));
            Assert.Equal(0, Topology.StopAgent(restarted));
            Topology.StartAgent(restarted);
            // The new process cannot reach a majority: it answers, but holds no lease and leaves subnet.env alone while
            // its join and its claim are retried.
            await Poll.UntilAsync(async () => await TryStatusAsync(restarted) is not null, TimeSpan.FromSeconds(30),
                $"{restarted.NodeName}'s restarted agent answering ctl status", 250);
            await Task.Delay(TimeSpan.FromSeconds(8));
            var status = await restarted.Client!.StatusAsync();
            Assert.Null(status.Lease);
            Assert.False(status.Ready);
            Assert.Equal(subnets[restarted.NodeName], SubnetEnvFile.Read(restarted.SubnetFile).Lease.ToString());
            foreach (var h in cluster.Majority)
            {
                var table = (await h.Client!.StatusAsync()).Leases;
                Assert.Equal(5, table.Count);
                Assert.Equal(subnets[restarted.NodeName], Assert.Single(table, l => l.Node == restarted.NodeName).Subnet);
            }
            // Longer than the resolver's decision: the other minority agent is downed too before the heal.
            await Poll.UntilAsync(() => ClusterLeftCount(stays) > leftBefore, TimeSpan.FromSeconds(60),
                $"{stays.NodeName} downed (ClusterLeft logged)", 250);
        }
        finally
        {
            Topology.Heal();
        }
        var healed = Stopwatch.StartNew();
        await WaitConvergedAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"rejoined {healed.Elapsed.TotalSeconds:0.0} s after the heal (one minority agent restarted during the cut)");

        AssertCrossPings();
        foreach (var (node, pid) in pids) Assert.Equal(pid, Topology.Hosts.Single(h => h.NodeName == node).Agent!.Id);
        Assert.Equal(subnets, SubnetEnvs());
        await AssertNoDuplicatesAsync(subnets);
    }

    private async Task AssertPartitionedAsync(IEnumerable<TopologyHost> hosts, TimeSpan timeout)
    {
        foreach (var h in hosts)
            await Poll.UntilAsync(async () => await h.Client!.ReadyAsync() is { Ready: false } r && r.Body.Contains("partitioned", StringComparison.Ordinal),
                timeout, $"{h.NodeName}: /readyz says partitioned", 250);
    }

    private static void AssertClusterShowPartitioned(TopologyHost h)
    {
        var r = CtlAgent.Run(h, "--json", "cluster", "show");
        Assert.True(r.Ok, $"ctl cluster show on {h.NodeName}: {r.Stderr}");
        var view = JsonNode.Parse(r.Stdout)!.AsObject();
        var partitioned = view.FirstOrDefault(kv => kv.Key.Equals("partitioned", StringComparison.OrdinalIgnoreCase)).Value;
        Assert.False(partitioned is null, $"ctl cluster show on {h.NodeName} does not say partitioned: {r.Stdout}");
        var text = CtlAgent.Run(h, "cluster", "show");
        Assert.Contains("partitioned", text.Stdout, StringComparison.Ordinal);
    }

    /// <summary>Every agent ready with every peer programmed, and every agent sees all 5 members Up and reachable.</summary>
    /// <remarks>
    /// Polled through transient refusals: an agent may still be switching incarnations when the heal comes.
    /// </remarks>
    private async Task WaitConvergedAsync(TimeSpan timeout)
    {
        var last = new Dictionary<string, string>();
        try
        {
            await Poll.UntilAsync(async () =>
            {
                var ok = true;
                foreach (var h in Topology.Hosts)
                {
                    var s = await TryStatusAsync(h);
                    var up = s?.Members.Count(m => m.Status == "Up" && m.Reachable) ?? 0;
                    last[h.NodeName] = s is null ? "no answer" : $"ready {s.Ready} ({string.Join("; ", s.NotReady)}), {up}/{s.Members.Count} members up, peers {s.Reconcile.PeersProgrammed}";
                    if (s is null || !s.Ready || up != 5 || s.Members.Count != 5 || !s.Reconcile.InSync || s.Reconcile.PeersProgrammed < 4) ok = false;
                }
                return ok;
            }, timeout, "every agent ready with 4 peers and all 5 members Up and reachable on every host", 200);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException("not converged: " + string.Join("; ", last.Select(kv => $"{kv.Key}: {kv.Value}")));
        }
    }

    private static async Task<StatusView?> TryStatusAsync(TopologyHost h)
    {
        try { return await h.Client!.StatusAsync(); }
        catch (Exception e) when (e is CtlUnavailableException or InvalidOperationException or IOException
                                       or System.Net.Sockets.SocketException or TimeoutException or OperationCanceledException)
        {
            return null;
        }
    }

    private void AssertCrossPings()
    {
        var pairs = new[] { (0, 3), (3, 0), (1, 4), (4, 2) }
            .Select(p => (From: cluster.PodOn(Topology.Hosts[p.Item1]), To: cluster.PodOn(Topology.Hosts[p.Item2]))).ToList();
        var failed = pairs.AsParallel().Where(p => !ClusterTopology.Ping(p.From, p.To, attempts: 10)).Select(p => $"{p.From} -> {p.To}").ToList();
        Assert.Empty(failed);
    }

    private Dictionary<string, string> SubnetEnvs() =>
        Topology.Hosts.ToDictionary(h => h.NodeName, h => SubnetEnvFile.Read(h.SubnetFile).Lease.ToString());

    /// <summary>0 duplicate subnets: subnet.env files distinct, and every host's lease table one lease per node and subnet, equal to them.</summary>
    private async Task AssertNoDuplicatesAsync(IReadOnlyDictionary<string, string> subnets)
    {
        Assert.Equal(5, subnets.Values.Distinct().Count());
        foreach (var h in Topology.Hosts)
        {
            var s = await h.Client!.StatusAsync();
            Assert.Equal(5, s.Leases.Count);
            Assert.Equal(5, s.Leases.Select(l => l.Subnet).Distinct().Count());
            Assert.Equal(subnets.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}"),
                s.Leases.OrderBy(l => l.Node).Select(l => $"{l.Node} {l.Subnet}"));
            Assert.Equal(subnets[h.NodeName], s.Lease?.Subnet);
        }
    }

    private static int ClusterLeftCount(TopologyHost h) =>
        File.Exists(h.LogFile) ? Regex.Matches(File.ReadAllText(h.LogFile), "removed from the cluster \\(incarnation").Count : 0;

    private readonly List<Process> _pings = [];

    /// <summary>ping every 0.2 s from <paramref name="from"/> to <paramref name="to"/> until <see cref="StopPings"/>; returns its log.</summary>
    private string StartPing(Pod from, Pod to)
    {
        var log = Path.Combine(Topology.StateDir, $"ping-{from.Name}-{to.Name}-{Environment.TickCount64}.log");
        _pings.Add(Topology.StartInNamespace(from.Namespace, "ping", ["-i", "0.2", "-W", "1", to.Address.ToString()], log));
        return log;
    }

    /// <summary>SIGINT: ping prints its summary and exits.</summary>
    private void StopPings()
    {
        foreach (var p in _pings.Where(p => !p.HasExited))
        {
            ProcessRunner.Run("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            p.WaitForExit(5000);
        }
        _pings.Clear();
    }

    private static (int Sent, int Received) PingSummary(string log)
    {
        var text = File.ReadAllText(log);
        var m = Regex.Match(text, @"(\d+) packets transmitted, (\d+) received");
        Assert.True(m.Success, $"no ping summary in {log}: {text[^Math.Min(400, text.Length)..]}");
        return (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
    }
}
