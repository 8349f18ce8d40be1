using System.Net;
using System.Net.Sockets;
using k8s.Models;

namespace Flannel.Actors.Kubernetes;

/// <summary>Turns a V1Node into a <see cref="KubeNodeInfo"/>; tolerant of nodes without annotations, addresses or podCIDR.</summary>
public static class KubeNodeInfoMapper
{
    public const string DefaultAnnotationPrefix = "flannel.alpha.coreos.com";

    public static KubeNodeInfo From(V1Node node, string annotationPrefix = DefaultAnnotationPrefix)
    {
        var prefix = annotationPrefix.TrimEnd('/') + "/";
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in node.Metadata?.Annotations ?? new Dictionary<string, string>())
            if (key.StartsWith(prefix, StringComparison.Ordinal)) annotations[key[prefix.Length..]] = value ?? "";

        var internalIp = node.Status?.Addresses?
            .Where(a => a.Type == "InternalIP" && IPAddress.TryParse(a.Address, out _))
            .Select(a => IPAddress.Parse(a.Address))
            .OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)
            .FirstOrDefault();
        return new KubeNodeInfo(node.Metadata?.Name ?? "", PodCidr(node), annotations, internalIp);
    }

    /// <summary>The IPv4 pod CIDR: spec.podCIDR, else the first IPv4 entry of spec.podCIDRs; null when unset or unparsable.</summary>
    public static IPNetwork? PodCidr(V1Node node)
    {
        var candidates = new List<string?> { node.Spec?.PodCIDR };
        candidates.AddRange(node.Spec?.PodCIDRs ?? []);
        foreach (var text in candidates)
            if (IPNetwork.TryParse(text ?? "", out var net) && net.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
                return net;
        return null;
    }
}
