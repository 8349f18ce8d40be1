using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Flannel.Actors.Cmd;
using Flannel.E2E.Ctl;
using Flannel.Demo;
using Flannel.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Flannel.E2E.Kube;

/// <summary>
/// Three hosts in Kubernetes mode, vxlan; hosts 1 and 2 run our agents, host 3 is a "foreign" node as upstream flannel
/// (HEAD) would leave it: flannel.1 configured by hand (VNI 1, port 8472, no learning, lease IP /32, MTU 1450), a
/// permanent neighbour + FDB entry + onlink route per peer, subnet.env, a pod behind it, and its Node's annotations.
/// Its flannel pod is not listed while it runs "upstream" (a pod of ours that never answers would hold back the cluster's
/// formation; see the README's migration notes).
/// </summary>
public sealed class ForeignNodeCluster : IAsyncLifetime
{
    public const string ForeignMac = "0a:58:0a:f4:03:01";
    public const string Prefix = "flannel.alpha.coreos.com/";

    public KubeTopology Kube { get; private set; } = null!;
    public ClusterTopology Topology => Kube.Cluster;
    public TopologyHost Foreign => Topology.Hosts[2];
    public IReadOnlyList<TopologyHost> Ours => [Topology.Hosts[0], Topology.Hosts[1]];
    public IReadOnlyList<Pod> Pods { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Kube = KubeTopology.Create(new TopologyOptions($"fm{Environment.ProcessId % 10000}", KubeCluster.Flanneld)
        {
            Backend = "vxlan",
            NetConfJson = KubeTopology.NetConf("vxlan"),
            StateRoot = "/run/flannel-e2e",
            KeepLogsIn = Path.Combine(Path.GetTempPath(), "flannel-e2e-logs", "foreign"),
        }, KubeCluster.TestServer);
        try
        {
            Kube.Kubectl("delete", "pod", "-n", "kube-flannel", FlannelPodName(Foreign));
            foreach (var h in Ours) Topology.StartAgent(h, Kube.AgentArgs(h));
            await Topology.WaitReadyAsync(TimeSpan.FromSeconds(90), Ours);
            // The annotations follow readiness (the status loop publishes within a second or so): the foreign host is
            // configured from them (two fixture starts under load read a Node without backend-data yet).
            await Poll.UntilAsync(() => Task.FromResult(Kube.GetNodes().Where(n => Ours.Any(h => h.NodeName == n.Name)).All(n => n.Flannel("backend-data") is not null)),
                TimeSpan.FromSeconds(20), "our agents' Nodes carry backend-data", 250);
            ConfigureForeignHost();
            AnnotateForeign(Annotations());
            Pods = Topology.Hosts.AsParallel().AsOrdered().Select(h => Topology.CreatePod(h, $"pod{h.Index}")).ToList();
        }
        catch
        {
            Kube.Dispose();
            throw;
        }
    }

    public Task DisposeAsync()
    {
        Kube?.Dispose();
        return Task.CompletedTask;
    }

    public static string FlannelPodName(TopologyHost h) => $"kube-flannel-ds-{h.NodeName}";

    public Dictionary<string, string> Annotations(string? publicIp = null, string mac = ForeignMac) => new()
    {
        [Prefix + "kube-subnet-manager"] = "true",
        [Prefix + "backend-type"] = "vxlan",
        [Prefix + "backend-data"] = $"{{\"VNI\":1,\"VtepMAC\":\"{mac}\"}}",
        [Prefix + "public-ip"] = publicIp ?? Foreign.Address.ToString(),
    };

    public void AnnotateForeign(IReadOnlyDictionary<string, string> annotations, string? node = null) =>
        Kube.Kubectl(["annotate", "node", node ?? Foreign.NodeName, "--overwrite", .. annotations.Select(kv => $"{kv.Key}={kv.Value}")]);

    /// <summary>What upstream flannel's vxlan backend (HEAD) puts in the kernel of its node, done by hand.</summary>
    private void ConfigureForeignHost()
    {
        var cidr = KubeTopology.PodCidr(Foreign);
        var script = new List<string>
        {
            "sysctl -qw net.ipv4.ip_forward=1",
            $"ip link add flannel.1 type vxlan id 1 local {Foreign.Address} dev eth0 nolearning dstport 8472",
            $"ip link set flannel.1 address {ForeignMac} mtu 1450",
            $"ip addr add {cidr.BaseAddress}/32 dev flannel.1",
            "ip link set flannel.1 up",
        };
        foreach (var n in Kube.GetNodes().Where(n => Ours.Any(h => h.NodeName == n.Name)))
        {
            var host = Ours.Single(h => h.NodeName == n.Name);
            var mac = JsonNode.Parse(n.Flannel("backend-data")!)!["VtepMAC"]!.GetValue<string>();
            var gw = IPNetwork.Parse(n.PodCidr!).BaseAddress;
            script.Add($"ip neigh replace {gw} lladdr {mac} dev flannel.1 nud permanent");
            script.Add($"bridge fdb replace {mac} dev flannel.1 dst {host.Address} self permanent");
            script.Add($"ip route replace {n.PodCidr} via {gw} dev flannel.1 onlink");
        }
        Netns.Sh(Foreign.Namespace, string.Join(" && ", script));
        File.WriteAllText(Foreign.SubnetFile, string.Create(CultureInfo.InvariantCulture,
            $"FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET={cidr.BaseAddress.ToString()[..^1]}1/{cidr.PrefixLength}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n"));
    }
}

/// <summary>
/// Issue #17: a Node outside our cluster with flannel's annotations is a peer (programmed from podCIDR + annotations),
/// withdrawn when its annotations go, refused (and counted, logged once) when they are bad, and taken over by the
/// cluster's lease with no reprogramming when the node starts our agent.
/// </summary>
[Collection(Agent.AgentE2ECollection.Name)]
[TestCaseOrderer(StepOrderer.Name, StepOrderer.Assembly)]
public sealed class ForeignNodeTests(ForeignNodeCluster cluster, ITestOutputHelper output) : IClassFixture<ForeignNodeCluster>
{
    private KubeTopology Kube => cluster.Kube;
    private ClusterTopology Topology => cluster.Topology;
    private string ForeignCidr => KubeTopology.PodCidr(cluster.Foreign).ToString();

    [Fact, Step(1)]
    public async Task Our_agents_program_the_foreign_node_and_pods_ping_both_ways()
    {
        await WaitRouteAsync(present: true);
        Assert.Empty(UnreachablePairs());
        foreach (var h in cluster.Ours)
        {
            var row = CtlAgent.Json<RoutesView>(h, "routes").Routes.Single(r => r.Subnet == ForeignCidr);
            Assert.Equal(LeaseRow.KubeSource, row.Source);
            Assert.Equal(RouteRow.InSync, row.State);
            Assert.Contains(ForeignNodeCluster.ForeignMac, row.Desired, StringComparison.Ordinal);
            var lease = CtlAgent.Json<LeaseListView>(h, "lease", "list").Leases.Single(l => l.Subnet == ForeignCidr);
            Assert.Equal((LeaseRow.KubeSource, cluster.Foreign.NodeName), (lease.Source, lease.Node));
            Assert.Contains("kube annotations", CtlAgent.Run(h, "lease", "list").Stdout, StringComparison.Ordinal);
            var member = CtlAgent.Json<RoutesView>(h, "routes").Routes.Single(r => r.Subnet != ForeignCidr);
            Assert.Equal(LeaseRow.LeaseSource, member.Source);
        }
    }

    [Fact, Step(2)]
    public async Task Deleting_its_annotations_withdraws_it_and_restoring_them_brings_it_back()
    {
        Kube.Kubectl(["annotate", "node", cluster.Foreign.NodeName, .. cluster.Annotations().Keys.Select(k => k + "-")]);
        await WaitRouteAsync(present: false);
        Assert.False(ClusterTopology.Ping(cluster.Pods[0], cluster.Pods[2], attempts: 2));
        foreach (var h in cluster.Ours) Assert.Contains("node or annotations gone", File.ReadAllText(h.LogFile), StringComparison.Ordinal);

        cluster.AnnotateForeign(cluster.Annotations());
        await WaitRouteAsync(present: true);
        Assert.Empty(UnreachablePairs());
    }

    [Theory, Step(3)]
    [InlineData("public_ip_inside_network")]
    [InlineData("bad_vxlan_data")]
    [InlineData("overlaps_member_lease")]
    public async Task Bad_annotations_are_refused_counted_and_logged_once(string reason)
    {
        var rogue = $"rogue-{reason.Replace('_', '-')}";
        switch (reason)
        {
            case "public_ip_inside_network":
                cluster.AnnotateForeign(cluster.Annotations(publicIp: "10.244.200.1"));
                break;
            case "bad_vxlan_data":
                cluster.AnnotateForeign(new Dictionary<string, string> { [ForeignNodeCluster.Prefix + "backend-data"] = "{\"VNI\":1,\"VtepMAC\":\"zz:00:00:00:00:01\"}" });
                break;
            default:
                // A Node claiming half of host 1's (a member's) podCIDR: refused on host 2 as overlapping a member's
                // lease, on host 1 as overlapping its own.
                var path = Path.Combine(Topology.StateDir, rogue + ".yaml");
                File.WriteAllText(path, $"apiVersion: v1\nkind: Node\nmetadata:\n  name: {rogue}\nspec:\n  podCIDR: {KubeTopology.PodCidr(Topology.Hosts[0]).BaseAddress}/25\n");
                Kube.Kubectl("create", "-f", path);
                cluster.AnnotateForeign(cluster.Annotations(publicIp: "198.18.255.77"), rogue);
                break;
        }
        var judged = reason == "overlaps_member_lease" ? [Topology.Hosts[1]] : cluster.Ours;
        if (reason != "overlaps_member_lease") await WaitRouteAsync(present: false);
        foreach (var h in judged)
            await Poll.UntilAsync(() => File.ReadAllText(h.LogFile).Contains(reason, StringComparison.Ordinal),
                TimeSpan.FromSeconds(15), $"{h.NodeName} logs the refusal {reason}", intervalMs: 250);
        await Task.Delay(TimeSpan.FromSeconds(11)); // a periodic reconcile and recomputation in between: still logged once
        foreach (var h in judged)
        {
            var lines = File.ReadLines(h.LogFile).Where(l => l.Contains("node annotations refused", StringComparison.Ordinal) && l.Contains(reason, StringComparison.Ordinal)).ToList();
            output.WriteLine($"{h.NodeName}: {string.Join(" | ", lines)}");
            Assert.Single(lines);
            var metrics = await h.Client!.MetricsAsync() ?? "";
            Assert.Matches($"flannel_lease_entries_rejected_total\\{{[^}}]*reason=\"{reason}\"[^}}]*\\}} [1-9]", metrics);
            var routes = CtlAgent.Json<RoutesView>(h, "routes").Routes;
            Assert.Contains(routes, r => r.State == RouteRow.Ignored && r.Desired.Contains(reason, StringComparison.Ordinal));
        }
        if (reason == "overlaps_member_lease")
        {
            Assert.Contains("overlaps_own_lease", File.ReadAllText(Topology.Hosts[0].LogFile), StringComparison.Ordinal);
            Kube.Kubectl("delete", "node", rogue);
        }
        // Member routes never moved: host 1's subnet still reaches host 1 from host 2.
        Assert.True(ClusterTopology.Ping(cluster.Pods[1], cluster.Pods[0]));

        cluster.AnnotateForeign(cluster.Annotations());
        await WaitRouteAsync(present: true);
        Assert.Empty(UnreachablePairs());
    }

    [Fact, Step(4)]
    public async Task The_foreign_node_starting_our_agent_keeps_its_subnet_and_is_programmed_once()
    {
        await WaitRouteAsync(present: true);
        var host1 = cluster.Ours[0];
        int Programmed() => File.ReadLines(host1.LogFile).Count(l => l.Contains("programmed: ", StringComparison.Ordinal) && l.Contains(ForeignCidr, StringComparison.Ordinal)
            || l.Contains("peer removed", StringComparison.OrdinalIgnoreCase) && l.Contains(ForeignCidr, StringComparison.Ordinal));
        var before = Programmed();

        using var ping = PingRecorder.Start(cluster.Pods[0], cluster.Pods[2], TimeSpan.FromMilliseconds(20));
        var foreign = cluster.Foreign;
        var path = Path.Combine(Topology.StateDir, "foreign-pod.yaml");
        File.WriteAllText(path, $"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {ForeignNodeCluster.FlannelPodName(foreign)}\n  namespace: kube-flannel\n  labels:\n    app: flannel\n    tier: node\n" +
            $"spec:\n  nodeName: {foreign.NodeName}\n  hostNetwork: true\n  containers:\n  - name: kube-flannel\n    image: flanneld\nstatus:\n  phase: Running\n  podIP: {foreign.Address}\n  hostIP: {foreign.Address}\n");
        Kube.Kubectl("create", "-f", path);
        Topology.StartAgent(foreign, Kube.AgentArgs(foreign));
        await Topology.WaitReadyAsync(TimeSpan.FromSeconds(90), [foreign]);
        await Poll.UntilAsync(() => CtlAgent.Json<RoutesView>(host1, "routes").Routes.SingleOrDefault(r => r.Subnet == ForeignCidr)?.Source == LeaseRow.LeaseSource,
            TimeSpan.FromSeconds(30), "host1 takes host3's subnet from the lease table", intervalMs: 250);
        await Task.Delay(2000);
        var loss = ping.Stop();
        output.WriteLine($"foreign -> member: ping pod1 -> pod3 {loss}; host1 programming lines for {ForeignCidr}: {before} -> {Programmed()}");

        var status = await foreign.Client!.StatusAsync();
        Assert.Equal(ForeignCidr, status.Lease!.Subnet);
        var annotation = Kube.GetNodes().Single(n => n.Name == foreign.NodeName).Flannel("backend-data")!;
        Assert.Contains(ForeignNodeCluster.ForeignMac, annotation, StringComparison.Ordinal);
        Assert.Equal(before, Programmed());
        Assert.True(loss.LongestGapMs < 2000, $"pod1 -> pod3 lost connectivity for {loss.LongestGapMs} ms during the move: {loss}");
        Assert.Empty(UnreachablePairs());
    }

    private async Task WaitRouteAsync(bool present) =>
        await Poll.UntilAsync(() => cluster.Ours.All(h => Netns.Exec(h.Namespace, "ip", ["-4", "route", "show", ForeignCidr]).Stdout.Contains("flannel.1", StringComparison.Ordinal) == present),
            TimeSpan.FromSeconds(20), $"route to {ForeignCidr} {(present ? "programmed" : "withdrawn")} on hosts 1 and 2", intervalMs: 200);

    private List<string> UnreachablePairs() =>
        (from a in cluster.Pods from b in cluster.Pods where a != b select (a, b)).AsParallel()
        .Where(p => !ClusterTopology.Ping(p.a, p.b)).Select(p => $"{p.a} -> {p.b}").ToList();
}
