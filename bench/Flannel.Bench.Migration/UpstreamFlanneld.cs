using System.Diagnostics;
using System.Globalization;
using Flannel.Demo;

namespace Flannel.Bench.Migration;

/// <summary>
/// Upstream flanneld v0.7.1 (--kube-subnet-mgr) on a topology host, as its DaemonSet pod would run: in-cluster config
/// only (KUBERNETES_SERVICE_HOST/PORT, the service account's token and ca.crt), /etc/kube-flannel/net-conf.json and
/// /run/flannel/subnet.env. Those fixed paths are bind-mounted from the bench's state in a private mount namespace, so
/// nothing of the machine's own /etc or /run changes (only empty mount points are created when missing).
/// </summary>
public sealed class UpstreamFlanneld(ClusterTopology topology, string binary, string serviceAccountDir, string confDir, string apiHost, int apiPort)
{
    public const string ServiceAccountMount = "/var/run/secrets/kubernetes.io/serviceaccount";
    public const string ConfMount = "/etc/kube-flannel";
    public const string RunMount = "/run/flannel";

    private readonly Dictionary<string, Process> _running = new();

    public static string PodName(TopologyHost h) => $"kube-flannel-upstream-{h.NodeName}";

    public string LogFile(TopologyHost h) => Path.Combine(h.StateDir, "upstream-flanneld.log");

    public bool IsRunning(TopologyHost h) => _running.TryGetValue(h.NodeName, out var p) && !p.HasExited;

    public void Start(TopologyHost h)
    {
        if (IsRunning(h)) throw new InvalidOperationException($"{h.NodeName}: upstream flanneld already running");
        // subnet.env lands in the host's state dir (what the CNI plugin reads for that host).
        var script = string.Join(" && ",
            $"mount --bind {Q(serviceAccountDir)} {ServiceAccountMount}",
            $"mount --bind {Q(confDir)} {ConfMount}",
            $"mount --bind {Q(h.StateDir)} {RunMount}",
            $"exec env KUBERNETES_SERVICE_HOST={apiHost} KUBERNETES_SERVICE_PORT={apiPort.ToString(CultureInfo.InvariantCulture)} " +
            $"POD_NAME={PodName(h)} POD_NAMESPACE=kube-flannel {Q(binary)} --kube-subnet-mgr --iface=eth0 --v=1");
        _running[h.NodeName] = topology.StartInNamespace(h.Namespace, "unshare", ["-m", "--propagation", "private", "sh", "-c", script], LogFile(h));
    }

    /// <summary>SIGTERM, as the kubelet stops a pod; waits for the exit.</summary>
    public void Stop(TopologyHost h)
    {
        if (!_running.Remove(h.NodeName, out var p) || p.HasExited) return;
        ProcessRunner.Run("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)]);
        if (!p.WaitForExit(15_000))
        {
            p.Kill();
            p.WaitForExit(5000);
        }
    }

    public void StopAll()
    {
        foreach (var name in _running.Keys.ToList()) Stop(topology.Hosts.Single(h => h.NodeName == name));
    }

    private static string Q(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
