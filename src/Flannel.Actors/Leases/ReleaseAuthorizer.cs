using System.Net;

namespace Flannel.Actors.Leases;

/// <summary>A release as the allocator judges it: what, why, and who asked (node name as declared, member address as seen).</summary>
public sealed record ReleaseAsk(IPNetwork Subnet, ReleaseKind Kind, bool Force, string OriginNode, string Via, string From)
{
    public string Origin => $"{Via} on node {OriginNode} ({From})";
}

public abstract record ReleaseVerdict;

/// <param name="Lease">The entry to delete; null when the subnet is not leased (nothing to do, still a success).</param>
/// <param name="OtherNodes">An operator removed another node's lease: logged as a security event with the origin.</param>
public sealed record ReleaseAllowed(Lease? Lease, bool OtherNodes) : ReleaseVerdict;

public sealed record ReleaseDenied(string Reason, bool Permanent) : ReleaseVerdict;

/// <summary>
/// Decides a release as a pure function (T3): <see cref="ReleaseKind.Own"/> only from the member that registered the
/// lease; <see cref="ReleaseKind.NodeDeleted"/> only in Kubernetes mode and only when the API has no such node;
/// <see cref="ReleaseKind.Operator"/> frees the lease of a node whose member is gone, and a live member's lease (or one
/// whose owner is unknown) only with force.
/// </summary>
public static class ReleaseAuthorizer
{
    public static ReleaseVerdict Decide(AllocatorView view, ReleaseAsk ask)
    {
        if (!view.Table.TryGetValue(ask.Subnet, out var lease)) return new ReleaseAllowed(null, OtherNodes: false);
        var held = $"lease {lease.Subnet} of node {lease.Node} (owner {lease.Owner ?? "unknown"})";
        switch (ask.Kind)
        {
            case ReleaseKind.Own:
                var isOwner = lease.Owner is { } owner ? owner == ask.From : lease.Node == ask.OriginNode;
                return isOwner
                    ? new ReleaseAllowed(lease, OtherNodes: false)
                    : new ReleaseDenied($"{held}: an own release from {ask.Origin} is refused, only its owner may", Permanent: true);

            case ReleaseKind.NodeDeleted:
                if (view.NodeCidrs is not { } cidrs)
                    return new ReleaseDenied($"{held}: node-deleted releases need Kubernetes mode ({ask.Origin})", Permanent: true);
                return cidrs.Lookup(lease.Node) switch
                {
                    NodeCidr.NotFound => new ReleaseAllowed(lease, OtherNodes: false),
                    NodeCidr.Unknown => new ReleaseDenied(
                        $"{held}: the Kubernetes node list is not synced yet, cannot confirm the node was deleted", Permanent: false),
                    _ => new ReleaseDenied($"{held}: node {lease.Node} still exists in Kubernetes; node-deleted release from {ask.Origin} refused",
                        Permanent: true),
                };

            default:
                var other = lease.Node != ask.OriginNode;
                if (ask.Force) return new ReleaseAllowed(lease, other);
                if (lease.Owner is null)
                    return new ReleaseDenied($"{held}: its owner is unknown (written by an older flanneld); use --force to release it",
                        Permanent: true);
                if (view.LiveMembers.Contains(lease.Owner))
                    return new ReleaseDenied($"{held}: the owner is a live cluster member; use --force to release it anyway",
                        Permanent: true);
                return new ReleaseAllowed(lease, other);
        }
    }
}
