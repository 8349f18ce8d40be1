using System.Net;
using Akka.Cluster;
using Flannel.Net.Config;

namespace Flannel.Actors.Leases;

/// <summary>
/// What the allocator knows when it judges a request: the lease table of this round, the cluster members that are
/// alive, the podCIDR authority (null outside Kubernetes mode), the cluster's accepted net-conf and the table cap.
/// </summary>
public sealed record AllocatorView(
    IReadOnlyDictionary<IPNetwork, Lease> Table,
    IReadOnlySet<string> LiveMembers,
    INodeCidrAuthority? NodeCidrs,
    NetConf Accepted,
    int MaxLeases,
    DateTimeOffset Now)
{
    private static readonly HashSet<MemberStatus> Alive =
        [MemberStatus.Joining, MemberStatus.WeaklyUp, MemberStatus.Up, MemberStatus.Leaving];

    /// <summary>
    /// Addresses (without uid, as in <see cref="Lease.Owner"/>) of the members that still count as the registered
    /// owner of their node: Joining, WeaklyUp, Up or Leaving, reachable or not (an unreachable member may come back).
    /// </summary>
    public static IReadOnlySet<string> LiveMembersOf(IEnumerable<Member> members) =>
        members.Where(m => Alive.Contains(m.Status)).Select(m => m.Address.ToString()).ToHashSet(StringComparer.Ordinal);
}
