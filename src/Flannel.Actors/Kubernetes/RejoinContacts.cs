using Akka.Actor;
using Flannel.Actors.Leases;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// Whom a rejoining incarnation asks besides the discovered pods (<see cref="KubernetesClusterBootstrap"/>): the members
/// that owned the other nodes' unexpired leases in the last table it knew. They are the running cluster as this node last
/// saw it, so the node finds it again without the API server. Entries without an owner (older flanneld) or with one that
/// is no Akka address are skipped.
/// </summary>
public static class RejoinContacts
{
    public static IReadOnlyList<Address> From(IEnumerable<Lease> leases, string selfNode, DateTimeOffset now) => leases
        .Where(l => l.Node != selfNode && !l.IsExpired(now) && l.Owner is not null)
        .Select(l => Address.TryParse(l.Owner!, out var a) ? a : null)
        .OfType<Address>()
        .Distinct()
        .OrderBy(a => a, AddressOrder.Instance)
        .ToList();
}
