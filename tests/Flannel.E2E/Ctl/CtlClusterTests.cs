using System.Net;
using System.Text.RegularExpressions;
using Flannel.Testing;
using Flannel.Actors.Cmd;
using Flannel.E2E.Agent;
using Flannel.Actors.Remoting;
using Flannel.Demo;
using Flannel.Host.Health;
using Flannel.Net.SubnetEnv;
using Xunit;

namespace Flannel.E2E.Ctl;

/// <summary>
/// `flanneld ctl` against a live 3-host udp cluster in namespaces: every answer is cross-checked with what the cluster
/// really holds (subnet.env, the kernel's routes, the agents' own status), and the disruptive commands (cluster leave,
/// lease release) really change it. Tests that disturb the cluster restore it before they end.
/// </summary>
[Collection(AgentE2ECollection.Name)]
public sealed class CtlClusterTests(UdpCluster cluster) : IClassFixture<UdpCluster>
{
    private ClusterTopology Topology => cluster.Topology;
    private TopologyHost Host1 => Topology.Hosts[0];

    private static string Member(TopologyHost h, ClusterTopology t) =>
        $"{ClusterProtocol.Tls}://flannel@{h.Address}:{t.Options.ClusterPort}";

    [Fact]
    public async Task Cluster_show_lists_the_three_agents_up_with_one_leader()
    {
        await cluster.EnsureReadyAsync();

        var view = CtlAgent.Json<ClusterView>(Host1, "cluster", "show");
        var table = CtlAgent.Run(Host1, "cluster", "show");

        Assert.Equal(Topology.Hosts.Select(h => Member(h, Topology)).Order(), view.Members.Select(m => m.Address).Order());
        Assert.All(view.Members, m => Assert.Equal("Up", m.Status));
        Assert.All(view.Members, m => Assert.True(m.Reachable));
        Assert.Equal(Member(Host1, Topology), view.Self);
        Assert.Equal(view.Leader, Assert.Single(view.Members, m => m.IsLeader).Address);
        Assert.True(table.Ok, table.Stderr);
        Assert.Contains("cluster members (3 up, 0 unreachable)", table.Stdout);
    }

    [Fact]
    public async Task Lease_list_matches_every_hosts_subnet_env()
    {
        await cluster.EnsureReadyAsync();

        var view = CtlAgent.Json<LeaseListView>(Topology.Hosts[1], "lease", "list");

        Assert.Equal(3, view.Leases.Count);
        Assert.Equal(Topology.Hosts[1].NodeName, view.Self);
        foreach (var h in Topology.Hosts)
        {
            var row = Assert.Single(view.Leases, l => l.Node == h.NodeName);
            Assert.Equal(SubnetEnvFile.Read(h.SubnetFile).Lease.ToString(), row.Subnet);
            Assert.Equal(h.Address.ToString(), row.PublicIp);
            Assert.Equal("udp", row.Backend);
            Assert.True(row.Live, $"{h.NodeName} live");
            Assert.True(row.Expiration > DateTimeOffset.UtcNow.AddHours(23));
        }
        var shown = CtlAgent.Json<LeaseListView>(Host1, "lease", "show", Topology.Hosts[2].NodeName);
        var host3 = view.Leases.Single(l => l.Node == Topology.Hosts[2].NodeName);
        Assert.Equal((host3.Subnet, host3.PublicIp), (Assert.Single(shown.Leases).Subnet, shown.Leases[0].PublicIp));
    }

    [Fact]
    public async Task Routes_show_every_peer_in_sync_with_the_kernel()
    {
        await cluster.EnsureReadyAsync();

        var view = CtlAgent.Json<RoutesView>(Host1, "routes");
        var kernel = Netns.Exec(Host1.Namespace, "ip", ["-4", "route", "show"]).Stdout;

        Assert.Equal("udp", view.Backend);
        var leases = CtlAgent.Json<LeaseListView>(Host1, "lease", "list").Leases;
        Assert.Equal(leases.Where(l => !l.Own).Select(l => l.Subnet).Order(), view.Routes.Select(r => r.Subnet).Order());
        Assert.All(view.Routes, r => Assert.Equal(RouteRow.InSync, r.State));
        // udp routes the whole Network into flannel0; the tunnel's peer table does the rest.
        Assert.Matches(new Regex($@"^{Regex.Escape(Topology.Options.Network.ToString())} dev flannel0", RegexOptions.Multiline), kernel);
    }

    [Fact]
    public async Task Peers_and_metrics_counters_move_when_traffic_flows()
    {
        await cluster.EnsureReadyAsync();
        var (pod1, pod2) = (cluster.Pods[0], cluster.Pods[1]);
        var peer = Topology.Hosts[1].Address.ToString();
        // The TUN path counts per peer; the TC-BPF path (udp-datapath auto picks it when it loads) counts in the kernel.
        long Tx()
        {
            var view = CtlAgent.Json<PeersView>(Host1, "peers");
            return view.Peers.Single(p => p.PublicIp == peer).TxPackets + (view.Tunnel?.Bpf?.TxPackets ?? 0);
        }
        double TxMetric(string m) => Counter(m, "flannel_tunnel_packets_total{direction=\"tx\"}") +
                                     (m.Contains("flannel_udp_bpf_packets_total{direction=\"tx\"}") ? Counter(m, "flannel_udp_bpf_packets_total{direction=\"tx\"}") : 0);
        var metricsBefore = TxMetric(await Metrics());
        var before = Tx();

        for (var i = 0; i < 5; i++) Assert.True(ClusterTopology.Ping(pod1, pod2));

        Assert.True(Tx() >= before + 5, $"tx packets to {peer}: {before} -> {Tx()}");
        var metrics = await Metrics();
        Assert.True(TxMetric(metrics) >= metricsBefore + 5);
        Assert.Equal(3, Counter(metrics, "flannel_leases_known"));
        Assert.Equal(1, Counter(metrics, "flannel_leases_held"));
        Assert.Equal(3, Counter(metrics, "flannel_cluster_members{status=\"Up\"}"));
        Assert.Equal(2, Counter(metrics, "flannel_peers_programmed"));
        Assert.True(Counter(metrics, "flannel_reconcile_runs_total{backend=\"udp\"}") >= 1);
    }

    [Fact]
    public async Task Config_backend_actor_and_log_palettes_describe_the_running_agent()
    {
        await cluster.EnsureReadyAsync();

        var config = CtlAgent.Json<ConfigView>(Host1, "config", "show");
        var backend = CtlAgent.Json<BackendView>(Host1, "backend", "show");
        var actors = CtlAgent.Json<ActorHierarchyView>(Host1, "actor", "hierarchy");
        var level = CtlAgent.Json<LogLevelView>(Host1, "log", "level", "debug");
        var restored = CtlAgent.Json<LogLevelView>(Host1, "log", "level", "information");

        Assert.Contains(Topology.Options.Network.ToString(), config.NetConf);
        // The cluster's version 1 (the first node's file, offered at start), as the logs number it.
        Assert.StartsWith($"file {Topology.NetConfPath} via ", config.Source);
        Assert.Equal("1", config.Version);
        Assert.Equal(("udp", "flannel0", 1472), (backend.Type, backend.Device, backend.Mtu));
        Assert.Equal(SubnetEnvFile.Read(Host1.SubnetFile).Lease.ToString(), backend.Details["lease"]);
        var paths = Flatten(actors.Roots).Select(n => n.Path).ToHashSet();
        Assert.Contains("/user/cmd/lease", paths);
        Assert.Contains("/user/node", paths);
        Assert.Equal(("Debug", "Information"), (level.Level, level.Previous));
        Assert.Equal("Information", restored.Level);
    }

    [Fact]
    public async Task The_command_host_is_a_root_only_socket_and_no_tcp_port()
    {
        await cluster.EnsureReadyAsync();

        var mode = File.GetUnixFileMode(Host1.CmdSocket);
        var listening = Netns.Exec(Host1.Namespace, "ss", ["-Hltn", "sport = :9110"]);
        var fromPeer = CtlAgent.Run(Topology.Hosts[1], "--host", $"{Host1.Address}:9110", "cluster", "show");
        var local = CtlAgent.Run(Host1, "--host", "127.0.0.1:9110", "cluster", "show");
        // A non-root process on the host: the socket's mode stops it at connect (its directory is traversable).
        var nonRoot = ProcessRunner.Run("setpriv", ["--reuid=1000", "--regid=1000", "--clear-groups", "--",
            "socat", "-t", "5", "-", $"UNIX-CONNECT:{Host1.CmdSocket}"], TimeSpan.FromSeconds(20),
            """{"palette":"cluster","command":"down-unreachable"}""" + "\n");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        Assert.True(listening.Ok, listening.Stderr);
        Assert.Equal("", listening.Stdout.Trim());
        Assert.Equal(CmdExitCodes.Unavailable, fromPeer.ExitCode);
        Assert.Equal($"ctl: no flanneld command host at {Host1.Address}:9110 (connection refused)", fromPeer.Stderr.Trim());
        Assert.Equal("ctl: no flanneld command host at 127.0.0.1:9110 (connection refused)", local.Stderr.Trim());
        Assert.NotEqual(0, nonRoot.ExitCode);
        Assert.Contains("Permission denied", nonRoot.Stderr);
        Assert.Equal("", nonRoot.Stdout);
    }

    [Fact]
    public async Task Status_is_served_by_ctl_and_not_on_the_health_port()
    {
        await cluster.EnsureReadyAsync();

        var view = CtlAgent.Json<StatusView>(Host1, "status");
        var table = CtlAgent.Run(Host1, "status");
        var http = await Assert.ThrowsAsync<HttpRequestException>(() => CtlAgent.HttpGetAsync(Host1, Topology.Options.HealthPort, "/status"));

        Assert.Equal((Host1.NodeName, true, "udp"), (view.Node, view.Ready, view.Backend));
        Assert.Equal(SubnetEnvFile.Read(Host1.SubnetFile).Lease.ToString(), view.Lease!.Subnet);
        Assert.Equal(3, view.Leases.Count);
        Assert.Equal(3, view.Members.Count(m => m.Status == "Up"));
        Assert.True(table.Ok, table.Stderr);
        Assert.Contains($"flanneld on {Host1.NodeName}", table.Stdout);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, http.StatusCode);
        Assert.Equal("ok", (await CtlAgent.HttpGetAsync(Host1, Topology.Options.HealthPort, "/readyz")).Trim());
    }

    [Fact]
    public async Task Cluster_leave_removes_a_member_and_lease_release_frees_the_dead_nodes_subnet()
    {
        await cluster.EnsureReadyAsync();
        var leaving = Topology.Hosts[2];
        var subnet = SubnetEnvFile.Read(leaving.SubnetFile).Lease.ToString();
        try
        {
            var live = CtlAgent.Run(Host1, "lease", "release", subnet, "--yes");
            Assert.Equal(CmdExitCodes.NotConfirmed, live.ExitCode);
            Assert.Contains("--force", live.Stderr);

            var leave = CtlAgent.Run(Host1, "cluster", "leave", $"{leaving.Address}:{Topology.Options.ClusterPort}");
            Assert.True(leave.Ok, leave.Stderr);
            await Poll.UntilAsync(() => CtlAgent.Json<ClusterView>(Host1, "cluster", "show").Members.Count == 2,
                TimeSpan.FromSeconds(30), "host3 gone from the members", 250);
            Assert.True(leaving.Agent!.WaitForExit(30_000), "host3's agent exits once it is removed");
            var kept = CtlAgent.Json<LeaseListView>(Host1, "lease", "list").Leases.Single(l => l.Subnet == subnet);
            Assert.False(kept.Live);

            var release = CtlAgent.Run(Host1, "lease", "release", subnet, "--yes");
            Assert.True(release.Ok, release.Stderr);
            Assert.Contains($"released {subnet}", release.Stdout);
            await Poll.UntilAsync(() => CtlAgent.Json<LeaseListView>(Topology.Hosts[1], "lease", "list").Leases.All(l => l.Subnet != subnet),
                TimeSpan.FromSeconds(10), "the subnet is free on host2 too", 250);
        }
        finally
        {
            // Give the cluster back to the other tests whatever happened above.
            if (leaving.Agent is not { HasExited: false }) Topology.StartAgent(leaving);
        }
        await Topology.WaitReadyAsync(TimeSpan.FromSeconds(90));
        // host3 is back with a lease; host1 sees both once membership and the lease table have gossiped.
        await Poll.UntilAsync(() => CtlAgent.Json<ClusterView>(Host1, "cluster", "show").Members.Count(m => m.Status == "Up") == 3,
            TimeSpan.FromSeconds(20), "3 members Up again", 250);
        await Poll.UntilAsync(() => CtlAgent.Json<LeaseListView>(Host1, "lease", "list").Leases.Count(l => l.Live) == 3,
            TimeSpan.FromSeconds(20), "3 live leases again", 250);
    }

    private Task<string> Metrics() => CtlAgent.HttpGetAsync(Host1, Topology.Options.HealthPort, "/metrics");

    private static double Counter(string text, string series)
    {
        var m = Regex.Match(text, "^" + Regex.Escape(series) + @" (\S+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"{series} not in /metrics");
        return double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static IEnumerable<ActorNode> Flatten(IEnumerable<ActorNode> nodes) =>
        nodes.SelectMany(n => Flatten(n.Children).Prepend(n));
}
