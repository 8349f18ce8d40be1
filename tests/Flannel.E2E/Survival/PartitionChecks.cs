using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Flannel.E2E.Ctl;
using Flannel.Demo;
using Flannel.Host.Ctl;
using Flannel.Host.Health;
using Flannel.Net.SubnetEnv;
using Flannel.Testing;
using Xunit;

namespace Flannel.E2E.Survival;

/// <summary>
/// What the partition tests check, whichever way the agents find each other (static seeds or the Kubernetes API): the
/// minority says "partitioned" (/readyz and `ctl cluster show`), its actor systems are downed (ClusterLeft logged), the
/// cluster converges again, pods talk across, and no subnet is held twice. One copy for the file-mode and the
/// Kubernetes-mode tests.
/// </summary>
public sealed class PartitionChecks(ClusterTopology topology, Func<TopologyHost, Pod> podOn)
{
    private int HostCount => topology.Hosts.Count;

    /// <summary>What a cut showed: pings inside each side during it, its length, when it healed, and how long after the
    /// heal every agent saw one converged cluster again.</summary>
    public sealed record CutOutcome(PingLoss MajorityPing, PingLoss MinorityPing, TimeSpan CutFor, DateTimeOffset HealedAt, TimeSpan Rejoin);

    /// <summary>
    /// Cuts <paramref name="minority"/> off with a ping inside each side, waits until the minority says partitioned and its
    /// actor systems are downed (ClusterLeft logged), runs <paramref name="whileDowned"/> (given the time since the cut),
    /// checks `ctl cluster show` on the minority says partitioned and no agent exited, heals (also on failure) and waits
    /// until the cluster has converged again. <paramref name="hostsOnly"/> cuts only the paths between the two sides
    /// (<see cref="ClusterTopology.CutBetween"/>: the API server stays reachable from both); otherwise the minority loses
    /// the whole underlay but itself (<see cref="ClusterTopology.CutOff"/>).
    /// </summary>
    public async Task<CutOutcome> CutUntilDownedAndHealAsync(IReadOnlyList<TopologyHost> majority, IReadOnlyList<TopologyHost> minority,
        Func<TimeSpan, Task> whileDowned, bool hostsOnly = false)
    {
        var leftBefore = minority.ToDictionary(h => h.NodeName, ClusterLeftCount);
        if (hostsOnly) topology.CutBetween(minority, majority);
        else topology.CutOff(minority);
        var cut = Stopwatch.StartNew();
        PingLoss majorityPing, minorityPing;
        TimeSpan cutFor;
        // Pods on each side keep talking through their udp tunnels for the whole cut, downing included.
        using (var inMajority = StartPing(majority[0], majority[1]))
        using (var inMinority = StartPing(minority[0], minority[1]))
        {
            try
            {
                await AssertPartitionedAsync(minority, TimeSpan.FromSeconds(30));
                // The resolver downs the minority: each of its agents logs ClusterLeft (4100) and stays up.
                await Poll.UntilAsync(() => minority.All(h => ClusterLeftCount(h) > leftBefore[h.NodeName]), TimeSpan.FromSeconds(60),
                    "the minority's actor systems downed (ClusterLeft logged)", 250);
                await whileDowned(cut.Elapsed);
                foreach (var h in minority) AssertClusterShowPartitioned(h);
                foreach (var h in topology.Hosts) Assert.False(h.Agent!.HasExited, $"{h.NodeName}: flanneld exited during the cut\n{ClusterTopology.Tail(h.LogFile, 30)}");
            }
            finally
            {
                majorityPing = inMajority.Stop();
                minorityPing = inMinority.Stop();
                cutFor = cut.Elapsed;
                topology.Heal();
            }
        }
        var healedAt = DateTimeOffset.UtcNow;
        var healed = Stopwatch.StartNew();
        await WaitConvergedAsync(TimeSpan.FromSeconds(60));
        return new CutOutcome(majorityPing, minorityPing, cutFor, healedAt, healed.Elapsed);
    }

    /// <summary>
    /// The survival claims after <see cref="CutUntilDownedAndHealAsync"/>: both sides kept talking, the cluster converged
    /// within <paramref name="rejoinGoal"/> of the heal, pods talk across, every flanneld PID and subnet.env is unchanged
    /// and no subnet is held twice.
    /// </summary>
    public async Task AssertSurvivedAsync(CutOutcome cut, IReadOnlyList<TopologyHost> majority, IReadOnlyList<TopologyHost> minority,
        IReadOnlyDictionary<string, int> pids, IReadOnlyDictionary<string, string> subnets, TimeSpan rejoinGoal, Action<string> log)
    {
        log(string.Create(CultureInfo.InvariantCulture,
            $"cut for {cut.CutFor.TotalSeconds:0} s; rejoined (all {HostCount} members Up and reachable everywhere, every agent ready) {cut.Rejoin.TotalSeconds:0.0} s after the heal"));
        AssertKeptTalking($"{podOn(majority[0]).Name} -> {podOn(majority[1]).Name} (majority)", cut.MajorityPing, log);
        AssertKeptTalking($"{podOn(minority[0]).Name} -> {podOn(minority[1]).Name} (minority)", cut.MinorityPing, log);
        Assert.True(cut.Rejoin <= rejoinGoal, $"rejoin took {cut.Rejoin.TotalSeconds:0.0} s after the heal (goal {rejoinGoal.TotalSeconds} s)");
        AssertCrossPings(majority, minority);
        foreach (var h in topology.Hosts)
        {
            Assert.False(h.Agent!.HasExited, $"{h.NodeName} exited");
            Assert.Equal(pids[h.NodeName], h.Agent.Id);
        }
        Assert.Equal(subnets, SubnetEnvs());
        await AssertNoDuplicatesAsync(subnets);
    }

    public async Task AssertPartitionedAsync(IEnumerable<TopologyHost> hosts, TimeSpan timeout)
    {
        foreach (var h in hosts)
            await Poll.UntilAsync(async () => await h.Client!.ReadyAsync() is { Ready: false } r && r.Body.Contains("partitioned", StringComparison.Ordinal),
                timeout, $"{h.NodeName}: /readyz says partitioned", 250);
    }

    public static void AssertClusterShowPartitioned(TopologyHost h)
    {
        var r = CtlAgent.Run(h, "--json", "cluster", "show");
        Assert.True(r.Ok, $"ctl cluster show on {h.NodeName}: {r.Stderr}");
        var view = JsonNode.Parse(r.Stdout)!.AsObject();
        var partitioned = view.FirstOrDefault(kv => kv.Key.Equals("partitioned", StringComparison.OrdinalIgnoreCase)).Value;
        Assert.False(partitioned is null, $"ctl cluster show on {h.NodeName} does not say partitioned: {r.Stdout}");
        var text = CtlAgent.Run(h, "cluster", "show");
        Assert.Contains("partitioned", text.Stdout, StringComparison.Ordinal);
    }

    /// <summary>Every agent ready with every peer programmed, and every agent sees all members Up and reachable.</summary>
    /// <remarks>
    /// Polled through transient refusals: an agent may still be switching incarnations when the heal comes.
    /// </remarks>
    public async Task WaitConvergedAsync(TimeSpan timeout)
    {
        var n = HostCount;
        var last = new Dictionary<string, string>();
        try
        {
            await Poll.UntilAsync(async () =>
            {
                var ok = true;
                foreach (var h in topology.Hosts)
                {
                    var s = await TryStatusAsync(h);
                    var up = s?.Members.Count(m => m.Status == "Up" && m.Reachable) ?? 0;
                    last[h.NodeName] = s is null ? "no answer" : $"ready {s.Ready} ({string.Join("; ", s.NotReady)}), {up}/{s.Members.Count} members up, peers {s.Reconcile.PeersProgrammed}";
                    if (s is null || !s.Ready || up != n || s.Members.Count != n || !s.Reconcile.InSync || s.Reconcile.PeersProgrammed < n - 1) ok = false;
                }
                return ok;
            }, timeout, $"every agent ready with {n - 1} peers and all {n} members Up and reachable on every host", 200);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException("not converged: " + string.Join("; ", last.Select(kv => $"{kv.Key}: {kv.Value}")));
        }
    }

    public static async Task<StatusView?> TryStatusAsync(TopologyHost h)
    {
        try { return await h.Client!.StatusAsync(); }
        catch (Exception e) when (e is CtlUnavailableException or InvalidOperationException or IOException
                                       or System.Net.Sockets.SocketException or TimeoutException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Pods across the former cut answer both ways: majority -> minority and minority -> majority.</summary>
    public void AssertCrossPings(IReadOnlyList<TopologyHost> majority, IReadOnlyList<TopologyHost> minority)
    {
        var pairs = new List<(Pod From, Pod To)>();
        for (var i = 0; i < minority.Count; i++)
        {
            pairs.Add((podOn(majority[i % majority.Count]), podOn(minority[i])));
            pairs.Add((podOn(minority[i]), podOn(majority[(i + 1) % majority.Count])));
        }
        var failed = pairs.AsParallel().Where(p => !ClusterTopology.Ping(p.From, p.To, attempts: 10)).Select(p => $"{p.From} -> {p.To}").ToList();
        Assert.Empty(failed);
    }

    public Dictionary<string, string> SubnetEnvs() =>
        topology.Hosts.ToDictionary(h => h.NodeName, h => SubnetEnvFile.Read(h.SubnetFile).Lease.ToString());

    /// <summary>0 duplicate subnets: subnet.env files distinct, and every host's lease table one lease per node and subnet, equal to them.</summary>
    public async Task AssertNoDuplicatesAsync(IReadOnlyDictionary<string, string> subnets)
    {
        var n = HostCount;
        Assert.Equal(n, subnets.Values.Distinct().Count());
        foreach (var h in topology.Hosts)
        {
            var s = await h.Client!.StatusAsync();
            Assert.Equal(n, s.Leases.Count);
            Assert.Equal(n, s.Leases.Select(l => l.Subnet).Distinct().Count());
            Assert.Equal(subnets.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}"),
                s.Leases.OrderBy(l => l.Node).Select(l => $"{l.Node} {l.Subnet}"));
            Assert.Equal(subnets[h.NodeName], s.Lease?.Subnet);
        }
    }

    /// <summary>How many actor-system incarnations of <paramref name="h"/>'s agent have ended without its stop (ClusterLeft, 4100).</summary>
    public static int ClusterLeftCount(TopologyHost h) =>
        File.Exists(h.LogFile) ? Regex.Matches(File.ReadAllText(h.LogFile), "removed from the cluster \\(incarnation").Count : 0;

    /// <summary>A ping every 0.2 s from <paramref name="from"/>'s pod to <paramref name="to"/>'s, for the length of a cut.</summary>
    public PingRecorder StartPing(TopologyHost from, TopologyHost to) =>
        PingRecorder.Start(podOn(from), podOn(to), TimeSpan.FromMilliseconds(200));

    /// <summary>Pods on one side of the cut kept talking: at least 20 pings, 90% answered.</summary>
    public static void AssertKeptTalking(string what, PingLoss loss, Action<string> log)
    {
        log(string.Create(CultureInfo.InvariantCulture, $"{what}: {loss} during the cut"));
        Assert.True(loss.Sent >= 20 && loss.Received >= loss.Sent * 0.9, $"{what}: {loss} during the cut");
    }
}
