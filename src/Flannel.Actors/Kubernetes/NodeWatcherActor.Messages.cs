using System.Net;
using Akka.Actor;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// What the cluster needs to know of a Kubernetes Node. <see cref="Annotations"/> holds only the flannel annotations,
/// keyed without the prefix ("backend-type", "backend-data", "public-ip", "public-ip-overwrite", "kube-subnet-manager", ...).
/// Equality compares content, so an update that changes nothing relevant is not re-published.
/// </summary>
public sealed record KubeNodeInfo(string Name, IPNetwork? PodCidr, IReadOnlyDictionary<string, string> Annotations, IPAddress? InternalIP)
{
    public string? Annotation(string key) => Annotations.TryGetValue(key, out var v) ? v : null;

    /// <summary>flannel only takes nodes whose agent announced itself (kube-subnet-manager = "true") as peers.</summary>
    public bool IsFlannelManaged => Annotation("kube-subnet-manager") == "true";

    public string? BackendType => Annotation("backend-type");

    public string? BackendData => Annotation("backend-data");

    public IPAddress? PublicIp => IPAddress.TryParse(Annotation("public-ip-overwrite") ?? Annotation("public-ip"), out var ip) ? ip : null;

    public bool Equals(KubeNodeInfo? other) =>
        other is not null && Name == other.Name && Equals(PodCidr, other.PodCidr) && Equals(InternalIP, other.InternalIP)
        && Annotations.Count == other.Annotations.Count
        && Annotations.All(kv => other.Annotations.TryGetValue(kv.Key, out var v) && v == kv.Value);

    public override int GetHashCode() => HashCode.Combine(Name, PodCidr, InternalIP, Annotations.Count);
}

/// <summary>A node appeared (also replayed for every known node to a new subscriber).</summary>
public sealed record KubeNodeAdded(KubeNodeInfo Node);

/// <summary>A node's podCIDR, flannel annotations or InternalIP changed.</summary>
public sealed record KubeNodeUpdated(KubeNodeInfo Node, KubeNodeInfo Previous);

/// <summary>A node was deleted from Kubernetes (carries its last known state).</summary>
public sealed record KubeNodeDeleted(KubeNodeInfo Node);

/// <summary>After every complete (re)list: the full set of nodes, for reconciling leases of nodes that vanished unseen.</summary>
public sealed record KubeNodesSynced(IReadOnlyList<KubeNodeInfo> Nodes);

/// <summary>Subscribe to node events; the subscriber is sent the current nodes first (and KubeNodesSynced once listed).</summary>
public sealed record SubscribeKubeNodes(IActorRef Subscriber);

public sealed record UnsubscribeKubeNodes(IActorRef Subscriber);
