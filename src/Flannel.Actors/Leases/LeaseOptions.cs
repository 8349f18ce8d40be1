using System.Net;
using Flannel.Net.Config;

namespace Flannel.Actors.Leases;

/// <summary>
/// How one node acquires and keeps its lease. <paramref name="PreviousSubnet"/> is the lease from the old subnet.env
/// (FLANNEL_SUBNET with host bits cleared), preferred when free. <paramref name="RequiredSubnet"/> is the node's
/// Kubernetes podCIDR: when set, exactly that subnet is leased (it only has to lie inside Network); the allocator
/// grants it only in Kubernetes mode and only when the API agrees it is this node's podCIDR (ClaimAuthorizer).
/// </summary>
public sealed record LeaseOptions(
    string NodeName,
    IPAddress PublicIp,
    NetConf Conf,
    string BackendType,
    string? BackendData,
    IPNetwork? PreviousSubnet,
    IPNetwork? RequiredSubnet,
    TimeSpan Ttl,
    TimeSpan RenewMargin)
{
    /// <summary>flannel's lease TTL.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromHours(24);

    /// <summary>flannel's --subnet-lease-renew-margin default (60 minutes).</summary>
    public static readonly TimeSpan DefaultRenewMargin = TimeSpan.FromMinutes(60);

    /// <summary>Pause before retrying a claim or renewal that failed for a transient reason (no majority, no allocator).</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one request to the allocator may take before it counts as a transient failure.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The lease table a previous incarnation of this process last saw (after a rejoin), served to subscribers until the
    /// replicated table arrives: the route programmer resumes from it instead of from an empty table, which would remove
    /// every peer from the kernel and the udp tunnel.
    /// </summary>
    public IReadOnlyCollection<Lease> LastKnownTable { get; init; } = [];
}
