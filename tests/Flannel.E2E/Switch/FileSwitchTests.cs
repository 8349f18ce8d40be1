using Flannel.E2E.Agent;
using Flannel.Demo;
using Xunit;
using Xunit.Abstractions;

namespace Flannel.E2E.Switch;

/// <summary>
/// Outside Kubernetes the polled --net-config-path drives the live switch: editing the file moves every agent to the
/// new backend without a restart; an edit that changes Network is refused and the old backend keeps running.
/// </summary>
[Collection(AgentE2ECollection.Name)]
public sealed class FileSwitchTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ClusterTopology _topology = null!;
    private IReadOnlyList<Pod> _pods = [];

    public async Task InitializeAsync()
    {
        _topology = ClusterTopology.Create(new TopologyOptions($"fs{Environment.ProcessId % 10000}", AgentCluster.Flanneld)
        {
            Backend = "vxlan",
            StateRoot = "/run/flannel-e2e",
            KeepLogsIn = Path.Combine(Path.GetTempPath(), "flannel-e2e-logs", "file-switch"),
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

    [Fact]
    public async Task Editing_net_conf_switches_every_agent_to_host_gw_and_a_network_change_is_refused()
    {
        var pids = _topology.Hosts.Select(h => h.Agent!.Id).ToList();
        using (var ping = PingRecorder.Start(_pods[0], _pods[1]))
        {
            await Task.Delay(500);
            File.WriteAllText(_topology.NetConfPath, """{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}""");
            var took = await BackendWait.UntilAllOnAsync(_topology, "host-gw", TimeSpan.FromSeconds(30));
            await Task.Delay(1000);
            var loss = ping.Stop();
            output.WriteLine($"vxlan -> host-gw by file: all agents in {took.TotalSeconds:0.0} s; ping: {loss}");
            Assert.True(loss.LongestGapMs < 5000, loss.ToString());
        }
        Assert.Empty(_topology.Hosts.SelectMany(h => BackendLeftovers.Find(h, "host-gw", _topology.Options.Network)));
        Assert.True(ClusterTopology.Ping(_pods[0], _pods[1]) && ClusterTopology.Ping(_pods[1], _pods[0]));
        // host-gw: each peer's subnet via the peer's underlay address.
        var peer = _topology.Hosts[1];
        var route = Netns.Exec(_topology.Hosts[0].Namespace, "ip", ["-4", "route"]).Stdout;
        Assert.Contains($"via {peer.Address} dev eth0", route);

        File.WriteAllText(_topology.NetConfPath, """{"Network":"10.99.0.0/16","Backend":{"Type":"udp"}}""");
        await Task.Delay(3000);
        await BackendWait.UntilAllOnAsync(_topology, "host-gw", TimeSpan.FromSeconds(5));
        Assert.Contains(_topology.Hosts, h => File.ReadAllText(h.LogFile).Contains("config refused", StringComparison.Ordinal)
                                              && File.ReadAllText(h.LogFile).Contains("Network 10.244.0.0/16 -> 10.99.0.0/16", StringComparison.Ordinal));
        Assert.True(ClusterTopology.Ping(_pods[0], _pods[1]));
        Assert.Equal(pids, _topology.Hosts.Select(h => h.Agent!.Id));
        Assert.All(_topology.Hosts, h => Assert.False(h.Agent!.HasExited));
    }

    public Task DisposeAsync()
    {
        _topology?.Dispose();
        return Task.CompletedTask;
    }
}
