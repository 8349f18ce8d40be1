using Flannel.Demo;
using Xunit;

namespace Flannel.E2E.Kube;

/// <summary>
/// Three hosts from the DaemonSet's view (shared by the tests of <see cref="KubeAgentTests"/>), vxlan.
/// </summary>
public sealed class KubeCluster() : KubeAgentCluster("vxlan", hosts: 3, prefix: "fk", name: "kube");

/// <summary>
/// <paramref name="hosts"/> hosts from the DaemonSet's view, shared by the tests of a class: the test API server in the
/// underlay namespace holds the Nodes with podCIDRs, the flannel pods and kube-flannel-cfg (<paramref name="backend"/>);
/// the agents run with --kube-subnet-mgr and no seeds; one pod per host made through the CNI plugin. Namespaces are named
/// <paramref name="prefix"/> + this process's id; logs are kept under flannel-e2e-logs/<paramref name="name"/>.
/// </summary>
public abstract class KubeAgentCluster(string backend, int hosts, string prefix, string name) : IAsyncLifetime
{
    public KubeTopology Kube { get; private set; } = null!;
    public ClusterTopology Topology => Kube.Cluster;
    public IReadOnlyList<Pod> Pods { get; private set; } = [];

    /// <summary>The agents' PIDs right after start: a live switch must not restart anyone.</summary>
    public IReadOnlyDictionary<string, int> StartPids { get; private set; } = new Dictionary<string, int>();

    public static string Flanneld => FlanneldBinary.Locate();

    /// <summary>kube-test-server, built next to this test assembly's configuration (the project references it for build order).</summary>
    public static string TestServer
    {
        get
        {
            var config = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Flannel.sln"))) dir = dir.Parent;
            if (dir is null) throw new InvalidOperationException("repository root (Flannel.sln) not found above " + AppContext.BaseDirectory);
            return Path.Combine(dir.FullName, "tests", "Flannel.Kube.TestServer", "bin", config, "net10.0", "kube-test-server");
        }
    }

    public async Task InitializeAsync()
    {
        Kube = KubeTopology.Create(new TopologyOptions($"{prefix}{Environment.ProcessId % 10000}", Flanneld)
        {
            Hosts = hosts,
            Backend = backend,
            NetConfJson = KubeTopology.NetConf(backend),
            StateRoot = "/run/flannel-e2e",
            KeepLogsIn = Path.Combine(Path.GetTempPath(), "flannel-e2e-logs", name),
        }, TestServer);
        try
        {
            Kube.StartAgents();
            await Topology.WaitReadyAsync(TimeSpan.FromSeconds(90));
            StartPids = Topology.Hosts.ToDictionary(h => h.NodeName, h => h.Agent!.Id);
            Pods = Topology.Hosts.AsParallel().AsOrdered().Select(h => Topology.CreatePod(h, $"pod{h.Index}")).ToList();
        }
        catch
        {
            Kube.Dispose();
            throw;
        }
    }

    public Pod PodOn(TopologyHost h) => Pods.Single(p => p.Host == h);

    public Task EnsureReadyAsync() => Topology.WaitReadyAsync(TimeSpan.FromSeconds(60));

    public Task DisposeAsync()
    {
        Kube?.Dispose();
        return Task.CompletedTask;
    }
}
