using System.Net;
using System.Text.Json.Nodes;
using Flannel.Demo;
using Flannel.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Flannel.E2E.Kube;

/// <summary>
/// flanneld --kube-subnet-mgr on 3 hosts against the test API server, checked with kubectl as an operator would: the
/// cluster forms once from the listed pods, leases are the podCIDRs, annotations and NetworkUnavailable appear; a
/// `kubectl patch configmap` switches every node vxlan -> udp -> vxlan live; an invalid change is refused while the old
/// config keeps running; `kubectl delete node` releases the lease and withdraws its routes everywhere (last: it takes a
/// host away).
/// </summary>
[Collection(Agent.AgentE2ECollection.Name)]
[TestCaseOrderer(StepOrderer.Name, StepOrderer.Assembly)]
public sealed class KubeAgentTests(KubeCluster cluster, ITestOutputHelper output) : IClassFixture<KubeCluster>
{
    private KubeTopology Kube => cluster.Kube;
    private ClusterTopology Topology => cluster.Topology;

    [Fact, Step(1)]
    public async Task The_cluster_forms_once_with_podCIDR_leases_annotations_and_the_condition()
    {
        // Readiness is per node (lease, backend, peers); membership gossip may lag it by a round or two, so wait until
        // every agent's view has converged. Two clusters never converge to 3 Up members each, so this still catches them.
        await Poll.UntilAsync(async () =>
        {
            foreach (var h in Topology.Hosts)
            {
                var s = await h.Client!.StatusAsync();
                if (s.Members.Count(m => m.Status == "Up") != 3 || s.Leases.Count != 3) return false;
            }
            return true;
        }, TimeSpan.FromSeconds(30), "every agent sees 3 Up members and 3 leases", 250);

        var leaders = new HashSet<string>();
        foreach (var h in Topology.Hosts)
        {
            var status = await h.Client!.StatusAsync();
            Assert.Equal(3, status.Members.Count(m => m.Status == "Up"));
            leaders.Add(status.Members.Single(m => m.Leader).Address);
            Assert.Equal(KubeTopology.PodCidr(h).ToString(), status.Lease!.Subnet);
            Assert.Equal(3, status.Leases.Count);
        }
        Assert.Single(leaders);

        var nodes = await Poll.ForAsync(() =>
        {
            var n = Kube.GetNodes();
            return n.All(x => x.NetworkUnavailableReason == "FlannelIsUp") ? n : null;
        }, TimeSpan.FromSeconds(20), "NetworkUnavailable=False/FlannelIsUp on every node", 250);
        foreach (var n in nodes)
        {
            var host = Topology.Hosts.Single(h => h.NodeName == n.Name);
            Assert.Equal("vxlan", n.Flannel("backend-type"));
            Assert.Equal("true", n.Flannel("kube-subnet-manager"));
            Assert.Equal(host.Address.ToString(), n.Flannel("public-ip"));
            var data = JsonNode.Parse(n.Flannel("backend-data")!)!;
            Assert.Equal(1, data["VNI"]!.GetValue<int>());
            Assert.Matches("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", data["VtepMAC"]!.GetValue<string>());
            Assert.Equal("False", n.NetworkUnavailable);
        }
    }

    [Fact, Step(2)]
    public async Task Patching_the_configmap_switches_every_node_live_vxlan_to_udp_and_back()
    {
        foreach (var to in new[] { "udp", "vxlan" })
        {
            using var ping = PingRecorder.Start(cluster.Pods[0], cluster.Pods[1]);
            await Task.Delay(500);
            Kube.PatchNetConf(KubeTopology.NetConf(to));
            var took = await Kube.WaitBackendAsync(to, TimeSpan.FromSeconds(45));
            await Task.Delay(1000);
            var loss = ping.Stop();
            output.WriteLine($"switch to {to}: all nodes in {took.TotalSeconds:0.0} s; ping pod1 -> pod2: {loss}");

            Assert.Empty(Topology.Hosts.SelectMany(h => BackendLeftovers.Find(h, to, Topology.Options.Network).Concat(BackendLeftovers.Missing(h, to))));
            Assert.Empty(UnreachablePairs());
            Assert.True(loss.Received > 0, $"no ping answered during the switch to {to}: {loss}");
            Assert.True(loss.LongestGapMs < 5000, $"connectivity did not come back within 5 s during the switch to {to}: {loss}");
            foreach (var h in Topology.Hosts)
            {
                Assert.Equal(cluster.StartPids[h.NodeName], h.Agent!.Id);
                Assert.False(h.Agent.HasExited, $"{h.NodeName}: flanneld exited during the switch");
            }
            var nodes = await Poll.ForAsync(() =>
            {
                var n = Kube.GetNodes();
                return n.All(x => x.Flannel("backend-type") == to) ? n : null;
            }, TimeSpan.FromSeconds(15), $"backend-type annotation {to} on every node", 250);
            Assert.All(nodes, n => Assert.Equal(to == "vxlan", n.Flannel("backend-data")!.Contains("VtepMAC", StringComparison.Ordinal)));
        }
    }

    [Fact, Step(3)]
    public async Task An_invalid_configmap_is_refused_with_an_event_and_the_old_config_keeps_running()
    {
        Kube.PatchNetConf("{\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"vxlan\",\"VNI\":\"one\"}");
        await Poll.UntilAsync(() => RefusalEvents().Count > 0, TimeSpan.FromSeconds(15), "a NetworkConfigRefused event", 250);
        Kube.PatchNetConf(KubeTopology.NetConf("udp", "10.10.0.0/16"));
        var events = await Poll.ForAsync(() => RefusalEvents().Any(e => e.Contains("Network", StringComparison.Ordinal) && e.Contains("10.10.0.0/16", StringComparison.Ordinal))
            ? RefusalEvents() : null, TimeSpan.FromSeconds(15), "an event refusing the Network change", 250);
        output.WriteLine(string.Join("\n", events));

        await Task.Delay(2000);
        await Kube.WaitBackendAsync("vxlan", TimeSpan.FromSeconds(5));
        Assert.Empty(Topology.Hosts.SelectMany(h => BackendLeftovers.Find(h, "vxlan", Topology.Options.Network)));
        Assert.Empty(UnreachablePairs());
        foreach (var h in Topology.Hosts)
            Assert.Contains("config refused", File.ReadAllText(h.LogFile), StringComparison.Ordinal);

        // Back to a valid text equal to what runs (the cluster's newest config is still the refused one's baseline): every
        // agent sees it, none refuses it, nothing switches. (That vxlan runs was true before this patch too.)
        var refusals = RefusalEvents().Count;
        var leaseVersions = await LeaseVersionsAsync();
        var seen = Topology.Hosts.ToDictionary(h => h.NodeName, ConfigMapChangesSeen);
        Kube.PatchNetConf(KubeTopology.NetConf("vxlan"));
        await Poll.UntilAsync(() => Topology.Hosts.All(h => ConfigMapChangesSeen(h) > seen[h.NodeName]), TimeSpan.FromSeconds(15),
            "every agent's ConfigMap watcher saw the patch", 250);
        // Time for a wrongful refusal (an event) or switch (a rewritten lease) to show.
        await Task.Delay(2000);
        Assert.Equal(refusals, RefusalEvents().Count);
        Assert.Equal(leaseVersions, await LeaseVersionsAsync());
        await Kube.WaitBackendAsync("vxlan", TimeSpan.FromSeconds(10));
    }

    /// <summary>How many ConfigMap net-conf changes <paramref name="h"/>'s agent has logged.</summary>
    private static int ConfigMapChangesSeen(TopologyHost h) =>
        File.ReadAllText(h.LogFile).Split("net-conf.json changed at resourceVersion").Length - 1;

    /// <summary>Every lease as every agent sees it, with its version: a backend switch rewrites them.</summary>
    private async Task<List<string>> LeaseVersionsAsync()
    {
        var all = new List<string>();
        foreach (var h in Topology.Hosts)
            all.AddRange((await h.Client!.StatusAsync()).Leases.Select(l => $"{h.NodeName} sees {l.Node} {l.Subnet} {l.Backend} v{l.Version}").Order());
        return all;
    }

    [Fact, Step(4)]
    public async Task Deleting_a_node_releases_its_lease_and_withdraws_its_routes_everywhere()
    {
        var gone = Topology.Hosts[2];
        var subnet = KubeTopology.PodCidr(gone).ToString();
        Kube.Kubectl("delete", "node", gone.NodeName);

        var survivors = Topology.Hosts.Where(h => h != gone).ToList();
        await Poll.UntilAsync(async () =>
        {
            foreach (var h in survivors)
            {
                var s = await h.Client!.StatusAsync();
                if (s.Leases.Any(l => l.Subnet == subnet)) return false;
                if (Netns.Exec(h.Namespace, "ip", ["-4", "route", "show", subnet]).Stdout.Trim().Length > 0) return false;
            }
            return true;
        }, TimeSpan.FromSeconds(20), $"lease and routes of {subnet} gone on {string.Join(", ", survivors.Select(h => h.NodeName))}", 250);

        // The deleted node's agent stops (its pod would be going away too) and does not take the lease back.
        await Poll.UntilAsync(() => gone.Agent!.HasExited, TimeSpan.FromSeconds(30), $"{gone.NodeName}'s agent exits", 250);
        Assert.Contains($"node {gone.NodeName} was deleted from Kubernetes", File.ReadAllText(gone.LogFile), StringComparison.Ordinal);
        await Task.Delay(3000);
        var after = await survivors[0].Client!.StatusAsync();
        Assert.DoesNotContain(after.Leases, l => l.Subnet == subnet);
        Assert.True(ClusterTopology.Ping(cluster.Pods[0], cluster.Pods[1]), "the remaining hosts' pods still talk");
    }

    private List<string> UnreachablePairs()
    {
        var live = cluster.Pods.Where(p => p.Host.Agent is { HasExited: false }).ToList();
        return (from a in live from b in live where a != b select (a, b)).AsParallel()
            .Where(p => !ClusterTopology.Ping(p.a, p.b)).Select(p => $"{p.a} -> {p.b}").ToList();
    }

    private List<string> RefusalEvents()
    {
        var doc = JsonNode.Parse(Kube.Kubectl("get", "events", "-n", "kube-flannel", "-o", "json"))!;
        return doc["items"]!.AsArray()
            .Where(e => e?["reason"]?.GetValue<string>() == "NetworkConfigRefused" && e["involvedObject"]?["name"]?.GetValue<string>() == "kube-flannel-cfg")
            .Select(e => e!["message"]!.GetValue<string>())
            .ToList();
    }
}
