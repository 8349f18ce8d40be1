using Flannel.Host.Demo;
using Xunit;

namespace Flannel.E2E.Survival;

/// <summary>
/// 5 hosts in network namespaces, udp backend (the tunnel lives in flanneld, so a dead or stuck agent would cut its
/// pods off), mutual TLS, one pod per host. Hosts 4 and 5 are the side that gets cut off: not host 1, the first seed.
/// Shared by the survival tests; each leaves it healed with every agent ready.
/// </summary>
public sealed class SurvivalCluster : IAsyncLifetime
{
    public ClusterTopology Topology { get; private set; } = null!;
    public IReadOnlyList<Pod> Pods { get; private set; } = [];

    public IReadOnlyList<TopologyHost> Majority => Topology.Hosts.Take(3).ToList();
    public IReadOnlyList<TopologyHost> Minority => Topology.Hosts.Skip(3).ToList();

    public Pod PodOn(TopologyHost h) => Pods.Single(p => p.Host == h);

    public async Task InitializeAsync()
    {
        var prefix = $"sv{Environment.ProcessId % 10000}";
        Topology = ClusterTopology.Create(new TopologyOptions(prefix, Flannel.E2E.Agent.AgentCluster.Flanneld)
        {
            Hosts = 5,
            Backend = "udp",
            StateRoot = "/run/flannel-e2e",
            KeepLogsIn = Path.Combine(Path.GetTempPath(), "flannel-e2e-logs", "survival"),
        });
        try
        {
            Topology.StartAgents();
            await Topology.WaitReadyAsync(TimeSpan.FromSeconds(90));
            Pods = Topology.Hosts.AsParallel().AsOrdered().Select(h => Topology.CreatePod(h, $"pod{h.Index}")).ToList();
        }
        catch
        {
            Topology.Dispose();
            throw;
        }
    }

    public Task EnsureReadyAsync() => Topology.WaitReadyAsync(TimeSpan.FromSeconds(60));

    public Task DisposeAsync()
    {
        Topology?.Dispose();
        return Task.CompletedTask;
    }
}
