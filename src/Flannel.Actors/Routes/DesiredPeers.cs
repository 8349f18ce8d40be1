using System.Net;
using Flannel.Actors.Leases;
using Flannel.Net.Backends;

namespace Flannel.Actors.Routes;

/// <summary>What a node knows about itself when it picks its peers from the lease table.</summary>
/// <param name="Name">Its node name: its own leases are never peers.</param>
/// <param name="Network">The accepted net-conf's Network: nothing outside it is ever programmed.</param>
/// <param name="Lease">Its lease (null before the first one): peers overlapping it are refused.</param>
/// <param name="PublicIp">Its public IP: a peer claiming it is refused.</param>
public sealed record LocalNode(string Name, IPNetwork Network, IPNetwork? Lease, IPAddress? PublicIp);

/// <summary>
/// The peers a node must program, as a pure function of the replicated lease table: every unexpired lease of another
/// node that passes <see cref="PeerFilter"/>. Leases of nodes that left the cluster stay until they expire (they may come
/// back with the same subnet, and flannel keeps their routes meanwhile). Several entries for one subnet are resolved
/// with <see cref="LeasePrecedence"/>, the rule the lease actor uses. Accepted peers are sorted by subnet so two
/// computations from the same table compare equal.
/// </summary>
public static class DesiredPeers
{
    public static PeerSelection Compute(IEnumerable<Lease> leases, LocalNode self, DateTimeOffset now) =>
        PeerFilter.Apply(
            leases.Where(l => l is not null && l.Node != self.Name && !l.IsExpired(now))
                .Order(LeasePrecedence.Order)
                .Select(l => (l.ToPeerLease(), (string?)l.Node)),
            self.Network, self.Lease, self.PublicIp);

    /// <summary>What changed between two desired sets (for logs: peer added / removed / changed).</summary>
    public static PeerDiff Diff(IReadOnlyCollection<PeerLease> before, IReadOnlyCollection<PeerLease> after)
    {
        var old = before.ToDictionary(p => p.Subnet);
        var @new = after.ToDictionary(p => p.Subnet);
        var added = after.Where(p => !old.ContainsKey(p.Subnet)).ToList();
        var removed = before.Where(p => !@new.ContainsKey(p.Subnet)).ToList();
        var changed = after.Where(p => old.TryGetValue(p.Subnet, out var o) && o != p).ToList();
        return new PeerDiff(added, removed, changed);
    }
}

public sealed record PeerDiff(IReadOnlyList<PeerLease> Added, IReadOnlyList<PeerLease> Removed, IReadOnlyList<PeerLease> Changed)
{
    public bool IsEmpty => Added.Count == 0 && Removed.Count == 0 && Changed.Count == 0;
}
