using System.Net;
using Flannel.Net.Netlink;

namespace Flannel.Net.Backends;

/// <summary>Differences between desired and actual kernel objects of one kind.</summary>
public sealed record Plan<T>(IReadOnlyList<T> ToAdd, IReadOnlyList<(T Actual, T Desired)> ToFix, IReadOnlyList<T> ToRemove)
{
    public bool IsEmpty => ToAdd.Count == 0 && ToFix.Count == 0 && ToRemove.Count == 0;
}

/// <summary>
/// Pure desired-versus-actual diffs used by every backend's reconcile pass. "Owned" objects are the only ones ever removed:
/// routes carrying our protocol inside the flannel network, permanent neighbours and FDB entries on our own vxlan device.
/// Every diff is bounded by the flannel Network: whatever the desired list holds (it comes from a replicated table any
/// member can write), a route whose destination is not inside Network is never added, replaced or deleted, a neighbour
/// outside Network is never touched, and an FDB entry is only written or deleted for a unicast MAC and a unicast
/// address outside Network (what a peer's VTEP is). The default route or 169.254.169.254 can therefore never be hijacked.
/// </summary>
public static class ReconcilePlanner
{
    /// <summary>
    /// Routes: keyed by destination. A desired destination served by another route (ours with a different next hop, or
    /// someone else's, e.g. left by Go flannel) is fixed by replacing it; owned routes no longer desired are removed.
    /// </summary>
    public static Plan<RouteInfo> Routes(
        IEnumerable<RouteInfo> desired, IReadOnlyCollection<RouteInfo> actual, IPNetwork network, Func<RouteInfo, bool> owned)
    {
        var add = new List<RouteInfo>();
        var fix = new List<(RouteInfo, RouteInfo)>();
        var wanted = new HashSet<IPNetwork>();
        var byDestination = actual.ToLookup(a => a.Destination);
        foreach (var d in desired)
        {
            if (!PeerFilter.Inside(d.Destination, network)) continue;
            if (!wanted.Add(d.Destination)) continue;
            var same = byDestination[d.Destination].ToList();
            if (same.Count == 0) add.Add(d);
            else if (!same.Any(a => a.SameForwarding(d) && a.Protocol == d.Protocol && a.EffectiveScope == d.EffectiveScope))
                fix.Add((same[0], d));
        }
        var remove = actual.Where(a => PeerFilter.Inside(a.Destination, network) && owned(a) && !wanted.Contains(a.Destination)).ToList();
        return new Plan<RouteInfo>(add, fix, remove);
    }

    /// <summary>Neighbours: keyed by IP; a wrong MAC is fixed in place; owned permanent entries not desired are removed.
    /// Only addresses inside <paramref name="network"/> (the peers' gateway addresses) are ever touched.</summary>
    public static Plan<NeighborInfo> Neighbors(IEnumerable<NeighborInfo> desired, IReadOnlyCollection<NeighborInfo> actual, IPNetwork network)
    {
        var add = new List<NeighborInfo>();
        var fix = new List<(NeighborInfo, NeighborInfo)>();
        var wanted = new HashSet<IPAddress>();
        var byAddress = actual.ToLookup(a => a.Address);
        foreach (var d in desired)
        {
            if (!InNetwork(d.Address, network) || !PeerFilter.IsUnicastMac(d.Mac)) continue;
            if (!wanted.Add(d.Address)) continue;
            var a = byAddress[d.Address].FirstOrDefault();
            if (a is null) add.Add(d);
            else if (a.Mac != d.Mac || !a.IsPermanent) fix.Add((a, d));
        }
        var remove = actual.Where(a => a.IsPermanent && InNetwork(a.Address, network) && !wanted.Contains(a.Address)).ToList();
        return new Plan<NeighborInfo>(add, fix, remove);
    }

    /// <summary>FDB: keyed by (MAC, VTEP); entries are appended or deleted, never edited (a MAC can have several remotes).
    /// Only peer-VTEP-shaped entries are touched: unicast MAC, unicast remote outside <paramref name="network"/>; anything
    /// else on the device (e.g. an all-zero flood entry someone added) is left alone.</summary>
    public static Plan<FdbEntry> Fdb(IEnumerable<FdbEntry> desired, IReadOnlyCollection<FdbEntry> actual, IPNetwork network)
    {
        var valid = desired.Where(d => IsVtepEntry(d, network)).ToList();
        var wanted = valid.Select(d => (d.Mac, d.Destination)).ToHashSet();
        var have = actual.Where(a => a.Destination is not null).Select(a => (a.Mac, a.Destination)).ToHashSet();
        var add = valid.Where(d => !have.Contains((d.Mac, d.Destination))).DistinctBy(d => (d.Mac, d.Destination)).ToList();
        var remove = actual.Where(a => IsVtepEntry(a, network) && a.IsPermanent && !wanted.Contains((a.Mac, a.Destination))).ToList();
        return new Plan<FdbEntry>(add, [], remove);
    }

    private static bool InNetwork(IPAddress address, IPNetwork network) =>
        address.AddressFamily == network.BaseAddress.AddressFamily && network.Contains(address);

    private static bool IsVtepEntry(FdbEntry e, IPNetwork network) =>
        e.Destination is { } d && PeerFilter.IsUnicast(d) && !InNetwork(d, network) && PeerFilter.IsUnicastMac(e.Mac);
}
