using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace Flannel.Bench.KubeScale;

/// <summary>
/// Node objects shaped like a kubeadm cluster's (labels, kubelet annotations, flannel's annotations as a running agent
/// writes them, conditions, capacity, nodeInfo, a dozen images: about 4 KB of JSON each), so list and watch carry
/// realistic payloads. Node i gets podCIDR 10.(129 + i/256).(i%256).0/24 inside the bench's Network 10.128.0.0/9
/// and a public IP in 198.19.0.0/16 (underlay range; nothing is routed to it).
/// </summary>
public static class NodeObjects
{
    public const string Network = "10.128.0.0/9";
    public const string Prefix = "flannel.alpha.coreos.com/";

    public static string Name(int i) => $"node-{i:D5}";

    public static IPNetwork PodCidr(int i) => IPNetwork.Parse($"10.{129 + i / 256}.{i % 256}.0/24");

    public static string PublicIp(int i, int generation = 0) => $"198.19.{(i / 256 + generation * 64) % 256}.{i % 256}";

    public static string VtepMac(int i, int generation = 0) =>
        string.Format(CultureInfo.InvariantCulture, "0a:58:{0:x2}:{1:x2}:{2:x2}:{3:x2}", generation % 256, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);

    public static string BackendData(int i, int generation = 0) => $"{{\"VNI\":1,\"VtepMAC\":\"{VtepMac(i, generation)}\"}}";

    public static JsonObject Node(int i)
    {
        var name = Name(i);
        var cidr = PodCidr(i).ToString();
        var ip = PublicIp(i);
        var now = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        JsonObject Condition(string type, string status, string reason, string message) => new()
        {
            ["type"] = type, ["status"] = status, ["lastHeartbeatTime"] = now, ["lastTransitionTime"] = now,
            ["reason"] = reason, ["message"] = message,
        };
        var images = new JsonArray();
        foreach (var (image, size) in Images)
            images.Add(new JsonObject
            {
                ["names"] = new JsonArray($"{image}@sha256:{Hash(image + i)}", image),
                ["sizeBytes"] = size,
            });
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["labels"] = new JsonObject
                {
                    ["beta.kubernetes.io/arch"] = "amd64", ["beta.kubernetes.io/os"] = "linux",
                    ["kubernetes.io/arch"] = "amd64", ["kubernetes.io/hostname"] = name, ["kubernetes.io/os"] = "linux",
                    ["node.kubernetes.io/instance-type"] = "m5.xlarge", ["topology.kubernetes.io/region"] = "bench-1",
                    ["topology.kubernetes.io/zone"] = $"bench-1{(char)('a' + i % 3)}",
                },
                ["annotations"] = new JsonObject
                {
                    [Prefix + "backend-data"] = BackendData(i),
                    [Prefix + "backend-type"] = "vxlan",
                    [Prefix + "kube-subnet-manager"] = "true",
                    [Prefix + "public-ip"] = ip,
                    ["kubeadm.alpha.kubernetes.io/cri-socket"] = "unix:///var/run/containerd/containerd.sock",
                    ["node.alpha.kubernetes.io/ttl"] = "0",
                    ["volumes.kubernetes.io/controller-managed-attach-detach"] = "true",
                },
            },
            ["spec"] = new JsonObject
            {
                ["podCIDR"] = cidr,
                ["podCIDRs"] = new JsonArray(cidr),
                ["providerID"] = $"bench:///bench-1/{name}",
            },
            ["status"] = new JsonObject
            {
                ["addresses"] = new JsonArray(
                    new JsonObject { ["type"] = "InternalIP", ["address"] = ip },
                    new JsonObject { ["type"] = "Hostname", ["address"] = name }),
                ["allocatable"] = Resources("3920m", "15225736Ki"),
                ["capacity"] = Resources("4", "16212872Ki"),
                ["conditions"] = new JsonArray(
                    Condition("NetworkUnavailable", "False", "FlannelIsUp", "Flannel is running on this node"),
                    Condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    Condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status")),
                ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = 10250 } },
                ["images"] = images,
                ["nodeInfo"] = new JsonObject
                {
                    ["architecture"] = "amd64", ["bootID"] = Guid.NewGuid().ToString(), ["containerRuntimeVersion"] = "containerd://1.7.22",
                    ["kernelVersion"] = "6.8.0-45-generic", ["kubeProxyVersion"] = "v1.31.1", ["kubeletVersion"] = "v1.31.1",
                    ["machineID"] = Hash(name)[..32], ["operatingSystem"] = "linux", ["osImage"] = "Ubuntu 24.04.1 LTS",
                    ["systemUUID"] = Guid.NewGuid().ToString(),
                },
            },
        };
    }

    private static JsonObject Resources(string cpu, string memory) => new()
    {
        ["cpu"] = cpu, ["ephemeral-storage"] = "94580520Ki", ["hugepages-1Gi"] = "0", ["hugepages-2Mi"] = "0",
        ["memory"] = memory, ["pods"] = "110",
    };

    private static readonly (string Image, long Size)[] Images =
    [
        ("registry.k8s.io/kube-proxy:v1.31.1", 30_210_000), ("docker.io/flannel/flannel:v0.26.0", 32_000_000),
        ("docker.io/flannel/flannel-cni-plugin:v1.5.1", 4_500_000), ("registry.k8s.io/coredns/coredns:v1.11.3", 18_560_000),
        ("registry.k8s.io/pause:3.10", 320_000), ("docker.io/library/nginx:1.27", 71_000_000),
        ("quay.io/prometheus/node-exporter:v1.8.2", 11_900_000), ("registry.k8s.io/metrics-server/metrics-server:v0.7.2", 19_500_000),
        ("docker.io/library/busybox:1.36", 2_150_000), ("ghcr.io/example/app:1.4.2", 120_000_000),
        ("docker.io/library/redis:7.4", 40_000_000), ("registry.k8s.io/ingress-nginx/controller:v1.11.2", 105_000_000),
    ];

    private static string Hash(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}
