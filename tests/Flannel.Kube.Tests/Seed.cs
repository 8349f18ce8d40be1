using k8s.Models;

namespace Flannel.Kube.Tests;

/// <summary>Typed objects the tests seed the API server with.</summary>
public static class Seed
{
    public const string FlannelNamespace = "kube-flannel";
    public const string NetConfVxlan = """{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""";

    public static V1Node Node(string name, string? podCidr = null, string? internalIp = null, IDictionary<string, string>? annotations = null,
        IDictionary<string, string>? labels = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Node",
        Metadata = new V1ObjectMeta { Name = name, Annotations = annotations, Labels = labels ?? new Dictionary<string, string> { ["kubernetes.io/hostname"] = name } },
        Spec = new V1NodeSpec { PodCIDR = podCidr },
        Status = new V1NodeStatus
        {
            Addresses = internalIp is null ? null : [new V1NodeAddress { Type = "InternalIP", Address = internalIp }],
            Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady", Message = "kubelet is posting ready status" }],
        },
    };

    public static V1Pod FlannelPod(string name, string nodeName, string? ip, string phase = "Running", string ns = FlannelNamespace) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = new Dictionary<string, string> { ["app"] = "flannel", ["tier"] = "node" } },
        Spec = new V1PodSpec { NodeName = nodeName, HostNetwork = true, Containers = [new V1Container { Name = "kube-flannel", Image = "flanneld" }] },
        Status = new V1PodStatus { Phase = phase, PodIP = ip, HostIP = ip },
    };

    public static V1ConfigMap FlannelConfig(string netConf = NetConfVxlan) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = new V1ObjectMeta { Name = "kube-flannel-cfg", NamespaceProperty = FlannelNamespace },
        Data = new Dictionary<string, string> { ["net-conf.json"] = netConf, ["cni-conf.json"] = """{"name":"cbr0","cniVersion":"0.3.1","plugins":[]}""" },
    };

    public static V1Namespace Namespace(string name) => new() { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = name } };
}
