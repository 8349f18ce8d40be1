using Flannel.E2E.Agent;
using Flannel.Demo;
using Xunit;

namespace Flannel.E2E.Image;

/// <summary>
/// The seed tutorial with the image on 3 namespace hosts (shared by the steps of <see cref="KubeImageE2ETests"/>):
/// `kubectl apply -f deploy/kube-flannel.yml`, the cluster TLS Secret, the DaemonSet run by a minimal kubelet per host
/// with podman, every pod Ready and every agent programmed; one pod per host made by the CNI plugin the DaemonSet
/// installed. Nothing is set up when this machine cannot run containers (<see cref="Skip"/> says why).
/// </summary>
public sealed class KubeImageCluster : IDisposable
{
    public KubeImageCluster()
    {
        Skip = ImageEnvironment.CannotRunContainers();
        if (Skip is not null) return;
        ImageEnvironment.EnsureImage();
        Manifest = Path.Combine(AppContext.BaseDirectory, "deploy", "kube-flannel.yml");
        Kube = KubeImageTopology.Create(new TopologyOptions($"fi{Environment.ProcessId % 10000}", AgentCluster.Flanneld)
        {
            Backend = "vxlan",
            StateRoot = "/run/flannel-e2e",
            KeepLogsIn = Path.Combine(Path.GetTempPath(), "flannel-e2e-logs", "kube-image"),
        }, Flannel.E2E.Kube.KubeCluster.TestServer, ImageEnvironment.MiniKubelet);
        try
        {
            FirstApply = Kube.Kubectl("apply", "-f", Manifest);
            Kube.CreateClusterTlsSecret();
            Kube.WaitPodsReady(TimeSpan.FromSeconds(180));
            Kube.Cluster.WaitReadyAsync(TimeSpan.FromSeconds(90)).GetAwaiter().GetResult();
            Pods = Kube.Cluster.Hosts.Select(h => Kube.CreatePod(h, $"pod{h.Index}")).ToList();
        }
        catch
        {
            Kube.Dispose();
            throw;
        }
    }

    /// <summary>Why the image tests skip; null when they run.</summary>
    public string? Skip { get; }

    public KubeImageTopology Kube { get; } = null!;
    public string Manifest { get; } = "";
    public string FirstApply { get; } = "";
    public IReadOnlyList<Pod> Pods { get; } = [];

    public void Dispose() => Kube?.Dispose();
}
