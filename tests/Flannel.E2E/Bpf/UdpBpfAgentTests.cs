using Flannel.E2E.Agent;
using Flannel.Demo;
using Flannel.Net.Bpf;
using Xunit;
using Xunit.Abstractions;

namespace Flannel.E2E.Bpf;

/// <summary>
/// flanneld with the udp backend on the TC-BPF path (the default, --udp-datapath auto): the choice is logged, the live
/// switch udp -> vxlan -> udp detaches and re-attaches the programs, and a stopped agent leaves nothing attached.
/// </summary>
[Collection(AgentE2ECollection.Name)]
public sealed class UdpBpfAgentTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ClusterTopology _topology = null!;
    private IReadOnlyList<Pod> _pods = [];

    public async Task InitializeAsync()
    {
        _topology = ClusterTopology.Create(new TopologyOptions($"ub{Environment.ProcessId % 10000}", AgentCluster.Flanneld)
        {
            Backend = "udp",
            StateRoot = "/run/flannel-e2e",
            KeepLogsIn = Path.Combine(Path.GetTempPath(), "flannel-e2e-logs", "udp-bpf"),
        });
        try
        {
            _topology.StartAgents();
            await _topology.WaitReadyAsync(TimeSpan.FromSeconds(90));
            _pods = _topology.Hosts.Take(2).AsParallel().AsOrdered().Select(h => _topology.CreatePod(h, $"pod{h.Index}")).ToList();
        }
        catch
        {
            _topology.Dispose();
            throw;
        }
    }

    /// <summary>Programs on the host's TCX hooks: (flannel0 egress, eth0 ingress); -1 when the device is missing.</summary>
    private static (int Egress, int Ingress) Attached(TopologyHost h)
    {
        var tun = Netns.Exec(h.Namespace, "cat", ["/sys/class/net/flannel0/ifindex"]);
        var eth = Netns.Exec(h.Namespace, "cat", ["/sys/class/net/eth0/ifindex"]);
        using var thread = new NamespaceThread(h.Namespace);
        return thread.Run(() => (
            tun.ExitCode == 0 ? BpfSyscall.QueryTcx(int.Parse(tun.Stdout.Trim()), BpfSyscall.AttachTcxEgress) : -1,
            BpfSyscall.QueryTcx(int.Parse(eth.Stdout.Trim()), BpfSyscall.AttachTcxIngress)));
    }

    [Fact]
    public async Task Bpf_path_runs_by_default_survives_udp_vxlan_udp_and_nothing_stays_attached_after_stop()
    {
        Assert.All(_topology.Hosts, h => Assert.Contains("udp data path bpf", File.ReadAllText(h.LogFile), StringComparison.Ordinal));
        Assert.All(_topology.Hosts, h => Assert.Equal((1, 1), Attached(h)));
        Assert.True(ClusterTopology.Ping(_pods[0], _pods[1]) && ClusterTopology.Ping(_pods[1], _pods[0]));

        File.WriteAllText(_topology.NetConfPath, """{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""");
        await BackendWait.UntilAllOnAsync(_topology, "vxlan", TimeSpan.FromSeconds(30));
        Assert.All(_topology.Hosts, h => Assert.Equal((-1, 0), Attached(h)));
        Assert.True(ClusterTopology.Ping(_pods[0], _pods[1]));

        var took = DateTime.UtcNow;
        File.WriteAllText(_topology.NetConfPath, """{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}""");
        await BackendWait.UntilAllOnAsync(_topology, "udp", TimeSpan.FromSeconds(30));
        output.WriteLine($"vxlan -> udp (bpf) in {(DateTime.UtcNow - took).TotalSeconds:0.0} s");
        Assert.All(_topology.Hosts, h => Assert.Equal((1, 1), Attached(h)));
        Assert.True(ClusterTopology.Ping(_pods[0], _pods[1]) && ClusterTopology.Ping(_pods[1], _pods[0]));
        var (sent, received, bytes) = await PodTcp.TransferAsync(_pods[1], _pods[0], 8 << 20, TimeSpan.FromSeconds(60));
        Assert.Equal(sent, received);
        Assert.Equal(8 << 20, bytes);

        var host = _topology.Hosts[0];
        _topology.StopAgent(host);
        Assert.Equal(0, Attached(host).Ingress);
        Assert.Empty(Directory.Exists("/sys/fs/bpf") ? Directory.GetFiles("/sys/fs/bpf", "fl_*", SearchOption.AllDirectories) : []);
    }

    public Task DisposeAsync()
    {
        _topology?.Dispose();
        return Task.CompletedTask;
    }
}
