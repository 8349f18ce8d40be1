using System.Globalization;
using System.Net;
using System.Text;
using Flannel.Testing;

namespace Flannel.Demo;

/// <summary>
/// The Kubernetes variant of <see cref="ClusterTopology"/>: the test API server (kube-test-server) runs inside the
/// underlay namespace on the bridge's own address (agents in their host namespaces cannot reach the root namespace's
/// loopback, and nothing private is ever added to the root namespace), seeded with namespace kube-flannel, the
/// kube-flannel-cfg ConfigMap, one Node per host with podCIDR 10.244.&lt;i&gt;.0/24 and one flannel pod per host
/// (label app=flannel, podIP = host address, as a hostNetwork DaemonSet pod). Agents run with --kube-subnet-mgr and
/// no --cluster-seeds; kubectl runs inside the underlay namespace.
/// </summary>
public sealed class KubeTopology : IDisposable
{
    private static readonly TimeSpan KubectlTimeout = TimeSpan.FromSeconds(30); // single objects: patch, get, annotate

    public const int ApiPort = 6443;

    private KubeTopology(ClusterTopology cluster, string serverExe)
    {
        Cluster = cluster;
        ServerExe = serverExe;
        var b = cluster.Options.Underlay.BaseAddress.GetAddressBytes();
        b[3] = 254;
        ApiAddress = new IPAddress(b);
    }

    public ClusterTopology Cluster { get; }
    public string ServerExe { get; }
    public IPAddress ApiAddress { get; }
    public string KubeconfigPath => Path.Combine(Cluster.StateDir, "kubeconfig");
    public string StatePath => Path.Combine(Cluster.StateDir, "kube-state.yaml");
    public string ServerLog => Path.Combine(Cluster.StateDir, "kube-test-server.log");

    /// <summary>What the DaemonSet mounts at /etc/kube-flannel/net-conf.json; absent here, so the agents read the ConfigMap.</summary>
    public string MountedNetConfPath => Path.Combine(Cluster.StateDir, "mounted", "net-conf.json");

    public static IPNetwork PodCidr(TopologyHost h) => IPNetwork.Parse($"10.244.{h.Index}.0/24");

    public static KubeTopology Create(TopologyOptions options, string serverExe)
    {
        if (!File.Exists(serverExe)) throw new InvalidOperationException($"kube-test-server not found at {serverExe}");
        var cluster = ClusterTopology.Create(options);
        var t = new KubeTopology(cluster, serverExe);
        try
        {
            t.StartApiServer();
            return t;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    private void StartApiServer()
    {
        File.WriteAllText(StatePath, StateYaml());
        StartApiServer(Cluster, ApiAddress, ServerExe, StatePath, KubeconfigPath, ServerLog, []);
    }

    /// <summary>Starts kube-test-server inside the underlay namespace on <paramref name="address"/> (added to br0) and waits
    /// until it listens. Also used by <see cref="KubeImageTopology"/>.</summary>
    public static void StartApiServer(ClusterTopology cluster, IPAddress address, string serverExe, string statePath, string kubeconfigPath,
        string serverLog, IEnumerable<string> extraArgs)
    {
        Netns.Sh(cluster.UnderlayNamespace, $"ip addr add {address}/{cluster.Options.Underlay.PrefixLength} dev br0");
        cluster.StartInNamespace(cluster.UnderlayNamespace, serverExe,
            ["--address", address.ToString(), "--port", ApiPort.ToString(CultureInfo.InvariantCulture), "--state", statePath,
             "--kubeconfig", kubeconfigPath, "--bookmark-interval-ms", "2000", .. extraArgs], serverLog);
        Poll.Until(() => File.Exists(kubeconfigPath) && File.Exists(serverLog) && File.ReadAllText(serverLog).Contains("listening", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), () => $"kube-test-server listening:\n{ClusterTopology.Tail(serverLog, 20)}", 100);
    }

    private string StateYaml()
    {
        var sb = new StringBuilder();
        sb.Append("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-flannel\n");
        sb.Append("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-flannel-cfg\n  namespace: kube-flannel\n  labels:\n    app: flannel\n");
        sb.Append("data:\n  cni-conf.json: '{\"name\":\"cbr0\",\"cniVersion\":\"0.3.1\",\"plugins\":[{\"type\":\"flannel\",\"delegate\":{\"hairpinMode\":true,\"isDefaultGateway\":true}},{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}'\n");
        sb.Append("  net-conf.json: '").Append(Cluster.Options.NetConfJson ?? Cluster.Options.DefaultNetConf()).Append("'\n");
        foreach (var h in Cluster.Hosts)
        {
            sb.Append(CultureInfo.InvariantCulture, $"---\napiVersion: v1\nkind: Node\nmetadata:\n  name: {h.NodeName}\n  labels:\n    kubernetes.io/hostname: {h.NodeName}\n");
            sb.Append(CultureInfo.InvariantCulture, $"spec:\n  podCIDR: {PodCidr(h)}\n  podCIDRs: [\"{PodCidr(h)}\"]\n");
            sb.Append(CultureInfo.InvariantCulture, $"status:\n  addresses:\n  - type: InternalIP\n    address: {h.Address}\n  - type: Hostname\n    address: {h.NodeName}\n");
            sb.Append("  conditions:\n  - type: Ready\n    status: \"True\"\n    reason: KubeletReady\n    message: kubelet is posting ready status\n");
        }
        foreach (var h in Cluster.Hosts)
        {
            sb.Append(CultureInfo.InvariantCulture, $"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-flannel-ds-{h.NodeName}\n  namespace: kube-flannel\n  labels:\n    app: flannel\n    tier: node\n");
            sb.Append(CultureInfo.InvariantCulture, $"spec:\n  nodeName: {h.NodeName}\n  hostNetwork: true\n  containers:\n  - name: kube-flannel\n    image: flanneld\n");
            sb.Append(CultureInfo.InvariantCulture, $"status:\n  phase: Running\n  podIP: {h.Address}\n  hostIP: {h.Address}\n");
        }
        return sb.ToString();
    }

    /// <summary>The flags of a DaemonSet agent: --kube-subnet-mgr, the kubeconfig, no seeds (found by listing the pods), the
    /// cluster TLS files as the Secret kube-flannel-cluster-tls would mount them.</summary>
    public IReadOnlyList<string> AgentArgs(TopologyHost h) =>
    [
        "--iface", "eth0",
        "--kube-subnet-mgr",
        "--kubeconfig-file", KubeconfigPath,
        "--net-config-path", MountedNetConfPath,
        "--subnet-file", h.SubnetFile,
        "--lease-store", h.LeaseStore,
        "--node-name", h.NodeName,
        "--cluster-port", Cluster.Options.ClusterPort.ToString(CultureInfo.InvariantCulture),
        "--healthz-ip", "127.0.0.1",
        "--healthz-port", Cluster.Options.HealthPort.ToString(CultureInfo.InvariantCulture),
        "--cmd-socket", h.CmdSocket,
        .. Cluster.TlsArgs(h),
        .. Cluster.Options.ExtraAgentArgs,
    ];

    /// <summary>
    /// Makes the API server unreachable for every host, as a control plane that is down or cut off: its address leaves
    /// br0 (the server keeps its socket; packets to the address are dropped). <see cref="RestoreApiServer"/> undoes it.
    /// </summary>
    public void IsolateApiServer() =>
        Netns.Sh(Cluster.UnderlayNamespace, $"ip addr del {ApiAddress}/{Cluster.Options.Underlay.PrefixLength} dev br0");

    public void RestoreApiServer() =>
        Netns.Sh(Cluster.UnderlayNamespace,
            $"ip addr show dev br0 | grep -qF ' {ApiAddress}/' || ip addr add {ApiAddress}/{Cluster.Options.Underlay.PrefixLength} dev br0");

    public void StartAgents()
    {
        foreach (var h in Cluster.Hosts) Cluster.StartAgent(h, AgentArgs(h));
    }

    /// <summary>kubectl against the test API server (run inside the underlay namespace); throws with stderr on failure.</summary>
    public string Kubectl(params string[] args) => NamespaceKubectl.Run(Cluster, KubeconfigPath, KubectlTimeout, args);

    public ProcessRunner.Result TryKubectl(params string[] args) => NamespaceKubectl.TryRun(Cluster, KubeconfigPath, KubectlTimeout, args);

    /// <summary>`kubectl patch configmap kube-flannel-cfg` with a new net-conf.json.</summary>
    public void PatchNetConf(string netConfJson)
    {
        var patch = System.Text.Json.JsonSerializer.Serialize(new { data = new Dictionary<string, string> { ["net-conf.json"] = netConfJson } });
        Kubectl("-n", "kube-flannel", "patch", "configmap", "kube-flannel-cfg", "--type", "merge", "-p", patch);
    }

    /// <summary>Waits until the whole cluster runs <paramref name="backend"/> (see <see cref="BackendWait"/>).</summary>
    public Task<TimeSpan> WaitBackendAsync(string backend, TimeSpan timeout, CancellationToken ct = default) =>
        BackendWait.UntilAllOnAsync(Cluster, backend, timeout, ct);

    /// <summary>The Nodes as kubectl shows them (`kubectl get nodes -o json`), reduced to what flannel writes.</summary>
    public IReadOnlyList<KubeNodeView> GetNodes()
    {
        var doc = System.Text.Json.Nodes.JsonNode.Parse(Kubectl("get", "nodes", "-o", "json"))!;
        return doc["items"]!.AsArray().Select(n =>
        {
            var annotations = n!["metadata"]?["annotations"]?.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>() ?? "")
                              ?? new Dictionary<string, string>();
            var condition = n["status"]?["conditions"]?.AsArray().FirstOrDefault(c => c?["type"]?.GetValue<string>() == "NetworkUnavailable");
            return new KubeNodeView(n["metadata"]!["name"]!.GetValue<string>(), n["spec"]?["podCIDR"]?.GetValue<string>(), annotations,
                condition?["status"]?.GetValue<string>(), condition?["reason"]?.GetValue<string>());
        }).ToList();
    }

    public static string NetConf(string backend, string network = "10.244.0.0/16") =>
        "{\"Network\":\"" + network + "\",\"Backend\":{\"Type\":\"" + backend + "\"}}";

    public void Dispose() => Cluster.Dispose();
}

/// <summary>A Node as the demo and tests check it: podCIDR, annotations, the NetworkUnavailable condition.</summary>
public sealed record KubeNodeView(string Name, string? PodCidr, IReadOnlyDictionary<string, string> Annotations, string? NetworkUnavailable,
    string? NetworkUnavailableReason)
{
    public string? Flannel(string key) => Annotations.TryGetValue("flannel.alpha.coreos.com/" + key, out var v) ? v : null;
}
