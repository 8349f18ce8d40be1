using System.Net;
using Flannel.Actors.Leases;
using Flannel.Net.Backends;

namespace Flannel.Actors.Routes;

/// <summary>
/// The peers a node must program, as a pure function of the replicated lease table: every unexpired lease of another
/// node. Leases of nodes that left the cluster stay until they expire (they may come back with the same subnet, and
/// flannel keeps their routes meanwhile). Sorted by subnet so two computations from the same table compare equal.
/// </summary>
public static class DesiredPeers
{
    public static IReadOnlyList<PeerLease> Compute(
        IEnumerable<Lease> leases, string ownNode, IPNetwork? ownSubnet, DateTimeOffset now) =>
        leases
            .Where(l => l.Node != ownNode && !l.IsExpired(now) && !(ownSubnet is { } own && l.Subnet.Equals(own)))
            .Select(l => l.ToPeerLease())
            .OrderBy(p => p.Subnet.BaseAddress.GetAddressBytes(), ByteOrder.Instance)
            .ThenBy(p => p.Subnet.PrefixLength)
            .ToList();

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

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y)
        {
            if (x is null || y is null) return (x is null ? 0 : 1) - (y is null ? 0 : 1);
            var n = x.Length.CompareTo(y.Length);
            return n != 0 ? n : x.AsSpan().SequenceCompareTo(y);
        }
    }
}

public sealed record PeerDiff(IReadOnlyList<PeerLease> Added, IReadOnlyList<PeerLease> Removed, IReadOnlyList<PeerLease> Changed)
{
    public bool IsEmpty => Added.Count == 0 && Removed.Count == 0 && Changed.Count == 0;
}
