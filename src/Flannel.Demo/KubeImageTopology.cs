using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Flannel.Demo;

/// <summary>
/// The seed tutorial's cluster with the real image: the <see cref="ClusterTopology"/> hosts (no agents started by us),
/// kube-test-server in the underlay namespace holding only the Nodes (podCIDR 10.244.&lt;i&gt;.0/24) and serving HTTPS for
/// in-cluster clients, and on every host a minimal kubelet for DaemonSets (tests/Flannel.MiniKubelet) that runs what
/// `kubectl apply -f deploy/kube-flannel.yml` creates with podman. Each host's file system (hostPath volumes:
/// /opt/cni/bin, /etc/cni/net.d, /run/flannel, /var/lib/flannel) is <see cref="HostRoot"/>; its default route points at
/// the underlay bridge so the agent finds its interface as on a real node (no --iface in the manifest).
/// Dispose stops the kubelets (they stop their pods gracefully), then removes everything.
/// </summary>
public sealed class KubeImageTopology : IDisposable
{
    private static readonly TimeSpan KubectlTimeout = TimeSpan.FromSeconds(60); // the image flow applies and deletes the whole manifest (delete -f waits for the objects)

    public const int ApiTlsPort = 6444;
    /// <summary>The manifest's --healthz-port and probe port.</summary>
    public const int HealthPort = 8081;

    private readonly List<System.Diagnostics.Process> _kubelets = [];
    private readonly List<Pod> _pods = [];
    private int _podCounter;
    private bool _disposed;

    private KubeImageTopology(ClusterTopology cluster)
    {
        Cluster = cluster;
        var b = cluster.Options.Underlay.BaseAddress.GetAddressBytes();
        b[3] = 254;
        ApiAddress = new IPAddress(b);
    }

    public ClusterTopology Cluster { get; }
    public IPAddress ApiAddress { get; }
    public string KubeconfigPath => Path.Combine(Cluster.StateDir, "kubeconfig");
    public string ApiCaPath => Path.Combine(Cluster.StateDir, "api-ca.crt");
    public static string HostRoot(TopologyHost h) => Path.Combine(h.StateDir, "root");
    public static string KubeletLog(TopologyHost h) => Path.Combine(h.StateDir, "mini-kubelet.log");
    public static string KubeletLabel(TopologyHost h) => $"io.flannel.minikubelet.node={h.Namespace}";

    public static KubeImageTopology Create(TopologyOptions options, string serverExe, string kubeletExe)
    {
        if (!File.Exists(serverExe)) throw new InvalidOperationException($"kube-test-server not found at {serverExe}");
        if (!File.Exists(kubeletExe)) throw new InvalidOperationException($"mini-kubelet not found at {kubeletExe}");
        var t = new KubeImageTopology(ClusterTopology.Create(options));
        try
        {
            t.Start(serverExe, kubeletExe);
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    private void Start(string serverExe, string kubeletExe)
    {
        var state = Path.Combine(Cluster.StateDir, "kube-state.yaml");
        File.WriteAllText(state, NodesYaml());
        KubeTopology.StartApiServer(Cluster, ApiAddress, serverExe, state, KubeconfigPath, Path.Combine(Cluster.StateDir, "kube-test-server.log"),
            ["--tls-port", ApiTlsPort.ToString(CultureInfo.InvariantCulture), "--tls-ca", ApiCaPath]);
        foreach (var h in Cluster.Hosts)
        {
            Netns.Sh(h.Namespace, $"ip route add default via {ApiAddress} dev eth0");
            Directory.CreateDirectory(HostRoot(h));
            // The agent's command socket as the DaemonSet's run volume puts it on the node; health as the manifest says.
            h.Client = new AgentClient(h.Namespace, HealthPort, Path.Combine(HostRoot(h), "run", "flannel", "flanneld.sock"));
            var p = Cluster.StartInNamespace(Cluster.UnderlayNamespace, kubeletExe,
            [
                "--node", h.NodeName, "--netns", h.Namespace, "--node-ip", h.Address.ToString(), "--host-root", HostRoot(h),
                "--state-dir", Path.Combine(h.StateDir, "kubelet"), "--kubeconfig", KubeconfigPath,
                "--service-host", ApiAddress.ToString(), "--service-port", ApiTlsPort.ToString(CultureInfo.InvariantCulture), "--service-ca", ApiCaPath,
                // podman and runc need this machine's /sys (cgroups), which `ip netns exec` hides: ours.
                "--mount-ns", $"/proc/{Environment.ProcessId}/ns/mnt",
            ], KubeletLog(h));
            _kubelets.Add(p);
        }
    }

    private string NodesYaml()
    {
        var sb = new StringBuilder();
        foreach (var h in Cluster.Hosts)
        {
            var cidr = KubeTopology.PodCidr(h);
            sb.Append(CultureInfo.InvariantCulture, $"---\napiVersion: v1\nkind: Node\nmetadata:\n  name: {h.NodeName}\n  labels:\n    kubernetes.io/hostname: {h.NodeName}\n    kubernetes.io/os: linux\n");
            sb.Append(CultureInfo.InvariantCulture, $"spec:\n  podCIDR: {cidr}\n  podCIDRs: [\"{cidr}\"]\n");
            sb.Append(CultureInfo.InvariantCulture, $"status:\n  addresses:\n  - type: InternalIP\n    address: {h.Address}\n  - type: Hostname\n    address: {h.NodeName}\n");
            sb.Append("  conditions:\n  - type: Ready\n    status: \"True\"\n    reason: KubeletReady\n    message: kubelet is posting ready status\n");
        }
        return sb.ToString();
    }

    /// <summary>kubectl against the test API server, from inside the underlay namespace; throws with stderr on failure.</summary>
    public string Kubectl(params string[] args) => NamespaceKubectl.Run(Cluster, KubeconfigPath, KubectlTimeout, args);

    public ProcessRunner.Result TryKubectl(params string[] args) => NamespaceKubectl.TryRun(Cluster, KubeconfigPath, KubectlTimeout, args);

    /// <summary>
    /// The agents' cluster credential as deploy/README.md makes it: `flanneld certs node` from the cluster CA, then
    /// `kubectl -n kube-flannel create secret generic kube-flannel-cluster-tls --from-file=DIR`, rendered client-side
    /// (--dry-run=client -o yaml) and applied: kubectl's create commands send protobuf, which the test server does not speak.
    /// </summary>
    public string CreateClusterTlsSecret()
    {
        var dir = Path.Combine(Cluster.StateDir, "flannel-tls");
        ProcessRunner.Check(Cluster.Options.Flanneld, "certs", "node", "--ca-dir", Cluster.CaDir, "--out", dir, "--name", "kube-flannel");
        var yaml = Kubectl("-n", "kube-flannel", "create", "secret", "generic", "kube-flannel-cluster-tls", $"--from-file={dir}", "--dry-run=client", "-o", "yaml");
        var r = Netns.Exec(Cluster.UnderlayNamespace, "kubectl",
            ["--kubeconfig", KubeconfigPath, "--cache-dir", Path.Combine(Cluster.StateDir, "kubectl-cache"), "apply", "-f", "-"],
            TimeSpan.FromSeconds(60), stdin: yaml, env: new Dictionary<string, string> { ["HOME"] = Cluster.StateDir });
        if (!r.Ok) throw new InvalidOperationException($"kubectl apply of the TLS Secret exited {r.ExitCode}: {r.Stderr.Trim()}");
        return r.Stdout;
    }

    /// <summary>The DaemonSet's pods as the API server has them: name, node, phase, Ready.</summary>
    public IReadOnlyList<(string Name, string Node, string Phase, bool Ready, int Restarts, string Message)> FlannelPods()
    {
        var doc = JsonNode.Parse(Kubectl("-n", "kube-flannel", "get", "pods", "-o", "json"))!;
        return doc["items"]!.AsArray().Select(p => (
            p!["metadata"]!["name"]!.GetValue<string>(),
            p["spec"]?["nodeName"]?.GetValue<string>() ?? "",
            p["status"]?["phase"]?.GetValue<string>() ?? "",
            p["status"]?["conditions"]?.AsArray().Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True") == true,
            p["status"]?["containerStatuses"]?.AsArray().Sum(c => c?["restartCount"]?.GetValue<int>() ?? 0) ?? 0,
            p["status"]?["message"]?.GetValue<string>() ?? "")).ToList();
    }

    /// <summary>Waits until every host runs a Ready flannel pod; throws with the pods and the kubelets' logs otherwise.</summary>
    public void WaitPodsReady(TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var pods = FlannelPods();
            if (pods.Count == Cluster.Hosts.Count && pods.All(p => p.Ready)) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"flannel pods not all Ready within {timeout.TotalSeconds} s: " +
                    string.Join("; ", pods.Select(p => $"{p.Name} on {p.Node}: {p.Phase} ready={p.Ready} restarts={p.Restarts} {p.Message}")) + "\n" +
                    string.Join("\n", Cluster.Hosts.Select(h => $"--- {h.NodeName} kubelet ---\n{ClusterTopology.Tail(KubeletLog(h), 10)}\n--- agent ---\n{ClusterTopology.Tail(AgentLog(h) ?? "", 15)}")));
            Thread.Sleep(500);
        }
    }

    /// <summary>The agent container's log on host <paramref name="h"/> (podman's k8s-file log the kubelet asked for), if any.</summary>
    public static string? AgentLog(TopologyHost h)
    {
        var pods = Path.Combine(h.StateDir, "kubelet", "pods");
        if (!Directory.Exists(pods)) return null;
        return Directory.GetFiles(pods, "kube-flannel.log", SearchOption.AllDirectories).OrderBy(File.GetLastWriteTimeUtc).LastOrDefault();
    }

    /// <summary>
    /// A pod on <paramref name="h"/> made by what the DaemonSet installed there: the `flannel` plugin from the node's
    /// /opt/cni/bin, configured by its /etc/cni/net.d/10-flannel.conflist (the first plugin; portmap is not run), with the
    /// node's /run/flannel/subnet.env. Only the state paths are pointed into the host's root (all hosts share one disk).
    /// </summary>
    public Pod CreatePod(TopologyHost h, string name)
    {
        var n = Interlocked.Increment(ref _podCounter);
        var ns = $"{Cluster.Options.Prefix}-g{n}";
        Netns.Add(ns);
        var containerId = $"{Cluster.Options.Prefix}-{name}-{n}";
        var pod = new Pod(name, ns, IPAddress.None, h, containerId);
        lock (_pods) _pods.Add(pod);
        Netns.Sh(ns, "ip link set lo up");
        var result = InstalledCni(h, "ADD", ns, containerId);
        var ip = JsonNode.Parse(result)?["ips"]?[0]?["address"]?.GetValue<string>()
                 ?? throw new InvalidOperationException($"CNI ADD on {h.NodeName} returned no IP: {result}");
        pod = pod with { Address = IPAddress.Parse(ip.Split('/')[0]) };
        lock (_pods) _pods[_pods.FindIndex(p => p.Namespace == ns)] = pod;
        return pod;
    }

    private string InstalledCni(TopologyHost h, string command, string podNs, string containerId)
    {
        var root = HostRoot(h);
        var conflist = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "etc", "cni", "net.d", "10-flannel.conflist")))!.AsObject();
        var conf = conflist["plugins"]![0]!.DeepClone().AsObject();
        conf["cniVersion"] = conflist["cniVersion"]!.DeepClone();
        conf["name"] = conflist["name"]!.DeepClone();
        conf["subnetFile"] = Path.Combine(root, "run", "flannel", "subnet.env");
        conf["dataDir"] = Path.Combine(root, "var", "lib", "cni", "flannel");
        conf["ipam"] = new JsonObject { ["dataDir"] = Path.Combine(root, "var", "lib", "cni", "networks") };
        var bin = Path.Combine(root, "opt", "cni", "bin");
        var env = new Dictionary<string, string>
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = containerId,
            ["CNI_NETNS"] = $"/var/run/netns/{podNs}",
            ["CNI_IFNAME"] = "eth0",
            ["CNI_PATH"] = $"{bin}:/usr/lib/cni",
        };
        var r = Netns.Exec(h.Namespace, Path.Combine(bin, "flannel"), [], TimeSpan.FromSeconds(30), conf.ToJsonString(), env);
        if (!r.Ok) throw new InvalidOperationException($"CNI {command} on {h.NodeName} exited {r.ExitCode}: {r.Stdout.Trim()} {r.Stderr.Trim()}");
        return r.Stdout;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_pods)
        {
            foreach (var p in _pods)
            {
                if (!Equals(p.Address, IPAddress.None))
                {
                    try { InstalledCni(p.Host, "DEL", p.Namespace, p.ContainerId); }
                    catch (Exception e) when (e is InvalidOperationException or IOException) { }
                }
                Netns.Delete(p.Namespace);
            }
            _pods.Clear();
        }
        // SIGTERM: each kubelet stops its pods with their grace period (the agents leave the cluster) and exits.
        foreach (var k in _kubelets.Where(k => !k.HasExited))
            ProcessRunner.Run("kill", ["-TERM", k.Id.ToString(CultureInfo.InvariantCulture)]);
        foreach (var k in _kubelets) k.WaitForExit(45_000);
        if (Cluster.Options.KeepLogsIn is { } keep)
        {
            Directory.CreateDirectory(keep);
            foreach (var h in Cluster.Hosts)
            {
                if (File.Exists(KubeletLog(h))) File.Copy(KubeletLog(h), Path.Combine(keep, $"{h.NodeName}-mini-kubelet.log"), overwrite: true);
                if (AgentLog(h) is { } agent) File.Copy(agent, Path.Combine(keep, $"{h.NodeName}-kube-flannel.log"), overwrite: true);
            }
        }
        // Whatever a kubelet could not stop (it was killed, or crashed) goes by its label.
        foreach (var h in Cluster.Hosts)
        {
            var ids = ProcessRunner.Run("podman", ["ps", "-a", "-q", "--filter", $"label={KubeletLabel(h)}"]).Stdout
                .Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (ids.Length > 0) ProcessRunner.Run("podman", ["rm", "-f", "-t", "2", .. ids]);
        }
        Cluster.Dispose();
    }
}
