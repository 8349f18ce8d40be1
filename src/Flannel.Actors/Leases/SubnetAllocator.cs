using System.Net;
using Flannel.Net.Config;

namespace Flannel.Actors.Leases;

/// <summary>The outcome of a claim: the lease to write plus the node's other leases to delete (a node holds one).</summary>
public abstract record AllocationResult;

public sealed record AllocationGranted(Lease Lease, IReadOnlyList<IPNetwork> Removed, string How) : AllocationResult;

/// <summary>A permanent refusal (out of subnets, podCIDR outside Network): retrying will not help.</summary>
public sealed record AllocationRefused(string Reason) : AllocationResult;

/// <summary>
/// flannel's lease choice as a pure function of the lease table. It trusts the claim: <see cref="ClaimAuthorizer"/>
/// decides first whether the claimant may make it (and replaces its net-conf with the cluster's). Acquire order:
/// (1) the Kubernetes podCIDR when given (never over another node's unexpired lease); (2) a lease this node already owns that fits the config (renewal; flannel matches by public IP, we match
/// by node name because public IPs need not be unique behind NAT, preferring the one with our public IP);
/// (3) the previous subnet.env subnet when free and fitting; (4) a random one among the first
/// <see cref="RandomPoolSize"/> free subnets. A subnet is free when no unexpired lease of another node overlaps it.
/// </summary>
public sealed class SubnetAllocator(Random random)
{
    /// <summary>flannel picks at random among the first 100 free subnets.</summary>
    public const int RandomPoolSize = 100;

    public SubnetAllocator() : this(Random.Shared) { }

    /// <param name="owner">The claimant's member address, recorded in the granted lease.</param>
    public AllocationResult Allocate(IReadOnlyDictionary<IPNetwork, Lease> table, LeaseClaim claim, DateTimeOffset now,
        string? owner = null)
    {
        var conf = claim.Conf;
        var mine = table.Values.Where(l => l.Node == claim.Node).ToList();

        if (claim.RequiredSubnet is { } required)
        {
            if (!conf.FitsNetwork(required))
                return new AllocationRefused(
                    $"podCIDR {required} of node {claim.Node} is not inside Network {conf.Network?.ToString() ?? "(IPv4 disabled)"}");
            // Another node's live lease is never taken: the authorizer removes it first if Kubernetes says it is stale.
            var holder = table.Values.FirstOrDefault(l => l.Node != claim.Node && !l.IsExpired(now) && AddressMath.Overlap(l.Subnet, required));
            if (holder is not null)
                return new AllocationRefused(
                    $"podCIDR {required} of node {claim.Node} overlaps the unexpired lease {holder.Subnet} of node {holder.Node}");
            return Grant(table, claim, required, now, mine, "podCIDR", owner);
        }

        var own = mine.Where(l => conf.Fits(l.Subnet) && IsFree(table, l.Subnet, claim.Node, now))
            .OrderByDescending(l => l.PublicIp.Equals(claim.PublicIp))
            .ThenByDescending(l => l.Expiration)
            .FirstOrDefault();
        if (own is not null)
            return Grant(table, claim, own.Subnet, now, mine, "own lease", owner);

        if (claim.PreviousSubnet is { } prev && conf.Fits(prev) && IsFree(table, prev, claim.Node, now))
            return Grant(table, claim, prev, now, mine, "previous subnet", owner);

        var pool = new List<IPNetwork>(RandomPoolSize);
        var busy = Busy(table, claim.Node, now);
        foreach (var candidate in conf.EnumerateSubnets())
        {
            if (busy.Overlaps(candidate)) continue;
            pool.Add(candidate);
            if (pool.Count == RandomPoolSize) break;
        }
        if (pool.Count == 0)
        {
            var inUse = table.Values.Count(l => !l.IsExpired(now) && conf.Fits(l.Subnet));
            return new AllocationRefused(
                $"out of subnets: Network {conf.Network}, SubnetLen {conf.SubnetLen}: {inUse} of {conf.SubnetCount} subnets " +
                $"({conf.SubnetMin}..{conf.SubnetMax}) in use");
        }
        return Grant(table, claim, pool[random.Next(pool.Count)], now, mine, "free subnet", owner);
    }

    /// <summary>Leases to garbage-collect: every lease expired at <paramref name="now"/>.</summary>
    public static IReadOnlyList<IPNetwork> Expired(IReadOnlyDictionary<IPNetwork, Lease> table, DateTimeOffset now) =>
        table.Values.Where(l => l.IsExpired(now)).Select(l => l.Subnet).ToList();

    /// <summary>True when no unexpired lease of another node overlaps <paramref name="subnet"/>.</summary>
    public static bool IsFree(IReadOnlyDictionary<IPNetwork, Lease> table, IPNetwork subnet, string node, DateTimeOffset now) =>
        !Busy(table, node, now).Overlaps(subnet);

    private static AllocationGranted Grant(IReadOnlyDictionary<IPNetwork, Lease> table, LeaseClaim claim, IPNetwork subnet,
        DateTimeOffset now, List<Lease> mine, string how, string? owner)
    {
        var version = table.TryGetValue(subnet, out var existing) ? NextVersion(existing.Version) : 1;
        // Whole milliseconds: the wire format's precision, so a lease compares equal after a round trip.
        var expiration = DateTimeOffset.FromUnixTimeMilliseconds((now + claim.Ttl).ToUnixTimeMilliseconds());
        var lease = new Lease(subnet, claim.Node, claim.PublicIp, claim.BackendType, claim.BackendData, expiration, version, owner);
        // Overlapping entries (another prefix length, e.g. after a podCIDR change) and this node's other leases go.
        var removed = mine.Where(l => !l.Subnet.Equals(subnet)).Select(l => l.Subnet)
            .Concat(table.Keys.Where(k => !k.Equals(subnet) && AddressMath.Overlap(k, subnet)))
            .Distinct().ToList();
        return new AllocationGranted(lease, removed, how);
    }

    /// <summary>
    /// One more than <paramref name="version"/>, saturating at long.MaxValue: a wrap to long.MinValue would make every
    /// reader take the new entry for an older one (readers treat an equal version as current).
    /// </summary>
    public static long NextVersion(long version) => version == long.MaxValue ? long.MaxValue : Math.Max(version, 0) + 1;

    private static BusySet Busy(IReadOnlyDictionary<IPNetwork, Lease> table, string node, DateTimeOffset now) =>
        new(table.Values.Where(l => l.Node != node && !l.IsExpired(now)).Select(l => l.Subnet));

    /// <summary>Subnets in use; exact matches are a hash lookup, other prefix lengths are checked for overlap.</summary>
    private sealed class BusySet
    {
        private readonly HashSet<IPNetwork> _exact = [];
        private readonly List<IPNetwork> _all = [];

        public BusySet(IEnumerable<IPNetwork> subnets)
        {
            foreach (var s in subnets)
            {
                _exact.Add(s);
                _all.Add(s);
            }
        }

        public bool Overlaps(IPNetwork candidate)
        {
            if (_exact.Contains(candidate)) return true;
            foreach (var s in _all)
                if (s.PrefixLength != candidate.PrefixLength && AddressMath.Overlap(s, candidate)) return true;
            return false;
        }
    }
}
