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
/// </summary>
public static class ReconcilePlanner
{
    /// <summary>
    /// Routes: keyed by destination. A desired destination served by another route (ours with a different next hop, or
    /// someone else's, e.g. left by Go flannel) is fixed by replacing it; owned routes no longer desired are removed.
    /// </summary>
    public static Plan<RouteInfo> Routes(IEnumerable<RouteInfo> desired, IReadOnlyCollection<RouteInfo> actual, Func<RouteInfo, bool> owned)
    {
        var add = new List<RouteInfo>();
        var fix = new List<(RouteInfo, RouteInfo)>();
        var wanted = new HashSet<IPNetwork>();
        var byDestination = actual.ToLookup(a => a.Destination);
        foreach (var d in desired)
        {
            if (!wanted.Add(d.Destination)) continue;
            var same = byDestination[d.Destination].ToList();
            if (same.Count == 0) add.Add(d);
            else if (!same.Any(a => a.SameForwarding(d) && a.Protocol == d.Protocol && a.EffectiveScope == d.EffectiveScope))
                fix.Add((same[0], d));
        }
        var remove = actual.Where(a => owned(a) && !wanted.Contains(a.Destination)).ToList();
        return new Plan<RouteInfo>(add, fix, remove);
    }

    /// <summary>Neighbours: keyed by IP; a wrong MAC is fixed in place; owned permanent entries not desired are removed.</summary>
    public static Plan<NeighborInfo> Neighbors(IEnumerable<NeighborInfo> desired, IReadOnlyCollection<NeighborInfo> actual)
    {
        var add = new List<NeighborInfo>();
        var fix = new List<(NeighborInfo, NeighborInfo)>();
        var wanted = new HashSet<IPAddress>();
        var byAddress = actual.ToLookup(a => a.Address);
        foreach (var d in desired)
        {
            if (!wanted.Add(d.Address)) continue;
            var a = byAddress[d.Address].FirstOrDefault();
            if (a is null) add.Add(d);
            else if (a.Mac != d.Mac || !a.IsPermanent) fix.Add((a, d));
        }
        var remove = actual.Where(a => a.IsPermanent && !wanted.Contains(a.Address)).ToList();
        return new Plan<NeighborInfo>(add, fix, remove);
    }

    /// <summary>FDB: keyed by (MAC, VTEP); entries are appended or deleted, never edited (a MAC can have several remotes).</summary>
    public static Plan<FdbEntry> Fdb(IEnumerable<FdbEntry> desired, IReadOnlyCollection<FdbEntry> actual)
    {
        var wanted = desired.Select(d => (d.Mac, d.Destination)).ToHashSet();
        var have = actual.Where(a => a.Destination is not null).Select(a => (a.Mac, a.Destination)).ToHashSet();
        var add = desired.Where(d => !have.Contains((d.Mac, d.Destination))).DistinctBy(d => (d.Mac, d.Destination)).ToList();
        var remove = actual.Where(a => a.Destination is not null && a.IsPermanent && !wanted.Contains((a.Mac, a.Destination))).ToList();
        return new Plan<FdbEntry>(add, [], remove);
    }
}
