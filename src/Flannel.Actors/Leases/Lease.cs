using System.Net;
using Flannel.Net.Backends;

namespace Flannel.Actors.Leases;

/// <summary>
/// One node's claim on a subnet, replicated to every node. <paramref name="Version"/> grows by one on every write of
/// this subnet's entry (claim, renewal, backend change), so a reader can tell a newer state from an older one.
/// </summary>
/// <param name="Subnet">The leased subnet (IPv4, SubnetLen of the net-conf, or the node's podCIDR in Kubernetes mode).</param>
/// <param name="Node">The owner's node name (unique in the cluster).</param>
/// <param name="PublicIp">Where peers send this subnet's traffic.</param>
/// <param name="BackendType">The owner's backend (udp, vxlan, host-gw).</param>
/// <param name="BackendData">The backend's JSON, e.g. {"VNI":1,"VtepMAC":"..."}; null when the backend has none.</param>
/// <param name="Expiration">When the lease is free again unless renewed.</param>
/// <param name="Version">Write counter of this entry.</param>
/// <param name="Owner">The cluster member that registered <paramref name="Node"/>: its Akka address without uid (e.g.
/// "akka.tcp://flannel@198.18.0.1:4053"), set by the allocator from the claim's sender. A claim for this node from
/// another address is refused while this member is alive. Null only in entries written by an older flanneld.</param>
public sealed record Lease(
    IPNetwork Subnet,
    string Node,
    IPAddress PublicIp,
    string BackendType,
    string? BackendData,
    DateTimeOffset Expiration,
    long Version,
    string? Owner = null)
{
    public bool IsExpired(DateTimeOffset now) => Expiration <= now;

    /// <summary>What the data plane needs about this lease (backends never see the actor-layer type).</summary>
    public PeerLease ToPeerLease() => new(Subnet, PublicIp, BackendType, BackendData);

    public override string ToString() =>
        $"{Subnet} node={Node} publicIp={PublicIp} backend={BackendType} expires={Expiration:O} v{Version} owner={Owner ?? "(none)"}";
}
