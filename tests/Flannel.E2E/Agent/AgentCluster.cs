using Flannel.Demo;
using Xunit;

namespace Flannel.E2E.Agent;

/// <summary>
/// A 3-host (or <paramref name="hosts"/>) flannel cluster of one backend in network namespaces (the demo's topology),
/// shared by every test of a class: agents started and ready, one pod per host made through the CNI plugin. Tests that
/// disturb it (kill, stop, delete routes, cut links) restore it before they end; <see cref="EnsureReadyAsync"/> guards
/// the others. Logs are kept under flannel-e2e-logs/<paramref name="name"/> (default: the backend).
/// </summary>
public abstract class AgentCluster(string backend, int hosts = 3, string? name = null) : IAsyncLifetime
{
    private static int _counter;

    public string Backend { get; } = backend;
    public ClusterTopology Topology { get; private set; } = null!;
    public IReadOnlyList<Pod> Pods { get; private set; } = [];

    public static string Flanneld => FlanneldBinary.Locate();

    public async Task InitializeAsync()
    {
        var prefix = $"fe{Environment.ProcessId % 10000}{Backend[0]}{Interlocked.Increment(ref _counter)}";
        Topology = ClusterTopology.Create(new TopologyOptions(prefix, Flanneld)
        {
            Hosts = hosts,
            Backend = Backend,
            StateRoot = "/run/flannel-e2e",
            KeepLogsIn = Path.Combine(Path.GetTempPath(), "flannel-e2e-logs", name ?? Backend),
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

public sealed class UdpCluster() : AgentCluster("udp");

public sealed class VxlanCluster() : AgentCluster("vxlan");

public sealed class HostGwCluster() : AgentCluster("host-gw");

/// <summary>The agent e2e classes run one after another: three clusters at once would starve this 2-core machine.</summary>
[CollectionDefinition(Name)]
public sealed class AgentE2ECollection
{
    public const string Name = "agent e2e";
}
