using System.Net;
using Flannel.Net.Config;

namespace Flannel.Actors.Leases;

/// <summary>Why a claim was refused; the allocator logs each kind as its own event.</summary>
public enum ClaimDenialKind
{
    /// <summary>The claimant may not make this claim (foreign net-conf, a RequiredSubnet that is not its podCIDR, a
    /// subnet another node holds): a security event.</summary>
    Unauthorized,
    /// <summary>The node name is registered by another member that is alive: a security event.</summary>
    NodeBound,
    /// <summary>Not decidable yet (the Kubernetes node list is not synced or lags): retried.</summary>
    Pending,
    /// <summary>The lease table is at flannel.leases.max-leases.</summary>
    TableFull,
    /// <summary>No subnet left in the accepted range.</summary>
    Exhausted,
}

public abstract record ClaimVerdict;

/// <param name="Evicted">Other nodes' leases that Kubernetes says are stale, removed to honour a podCIDR.</param>
/// <param name="ReboundFrom">The node's previous owner address ("(none)" for a lease written by an older flanneld) when
/// the node moved to the claimant's address; null when nothing changed hands.</param>
public sealed record ClaimGrant(Lease Lease, IReadOnlyList<IPNetwork> Removed, string How, IReadOnlyList<StaleLease> Evicted,
    string? ReboundFrom) : ClaimVerdict;

/// <param name="Owner">For <see cref="ClaimDenialKind.NodeBound"/>: the live member the node is registered by.</param>
public sealed record ClaimDenial(string Reason, bool Permanent, ClaimDenialKind Kind, string? Owner = null) : ClaimVerdict;

public sealed record StaleLease(Lease Lease, string Why);

/// <summary>
/// Decides a lease claim as a pure function of <see cref="AllocatorView"/>, the claim and the claimant's member
/// address (T3: a member claims and renews only its own lease):
/// <list type="number">
/// <item>the claim's Network/SubnetLen/SubnetMin/SubnetMax must equal the accepted net-conf, and the allocation then
/// uses the accepted one, never the claim's;</item>
/// <item>a node name with an unexpired lease belongs to the member that registered it: a claim from another address
/// is refused while that member is alive, and rebinds the node once it is gone (restart at another address);</item>
/// <item>RequiredSubnet only in Kubernetes mode, only equal to the node's podCIDR from the API, and a claim there must
/// carry one; it never takes another node's unexpired lease unless the API says that node is gone or has another
/// podCIDR (then that lease is evicted);</item>
/// <item>a claim that would grow the table beyond <see cref="AllocatorView.MaxLeases"/> is refused.</item>
/// </list>
/// The subnet choice itself is <see cref="SubnetAllocator"/>'s.
/// </summary>
public sealed class ClaimAuthorizer(SubnetAllocator allocator)
{
    public ClaimAuthorizer() : this(new SubnetAllocator()) { }

    public ClaimVerdict Decide(AllocatorView view, LeaseClaim claim, string claimant)
    {
        if (ConfMismatch(claim, view.Accepted) is { } mismatch)
            return new ClaimDenial(mismatch, Permanent: true, ClaimDenialKind.Unauthorized);

        string? reboundFrom = null;
        foreach (var lease in view.Table.Values)
        {
            if (lease.Node != claim.Node || lease.IsExpired(view.Now) || lease.Owner == claimant) continue;
            if (lease.Owner is { } owner && view.LiveMembers.Contains(owner))
                return new ClaimDenial(
                    $"node {claim.Node} is registered by the live member {owner} (lease {lease.Subnet}); a claim for it from {claimant} is refused",
                    Permanent: true, ClaimDenialKind.NodeBound, owner);
            reboundFrom ??= lease.Owner ?? "(none)";
        }

        var evicted = new List<StaleLease>();
        if (RequiredSubnetCheck(view, claim, evicted) is { } denial) return denial;

        var table = view.Table;
        if (evicted.Count > 0)
        {
            var rest = new Dictionary<IPNetwork, Lease>(view.Table);
            foreach (var stale in evicted) rest.Remove(stale.Lease.Subnet);
            table = rest;
        }
        var result = allocator.Allocate(table, claim with { Conf = view.Accepted }, view.Now, claimant);
        if (result is AllocationRefused refused)
            return new ClaimDenial(refused.Reason, Permanent: true, ClaimDenialKind.Exhausted);
        var granted = (AllocationGranted)result;
        // The entry of an evicted subnet is rewritten, so its version goes on from the evicted one.
        if (evicted.FirstOrDefault(e => e.Lease.Subnet.Equals(granted.Lease.Subnet)) is { } replaced)
            granted = granted with { Lease = granted.Lease with { Version = SubnetAllocator.NextVersion(replaced.Lease.Version) } };

        var after = table.Count - granted.Removed.Count(table.ContainsKey) + (table.ContainsKey(granted.Lease.Subnet) ? 0 : 1);
        if (after > view.MaxLeases && after > view.Table.Count)
            return new ClaimDenial(
                $"the lease table is full: {view.Table.Count} entries, cap flannel.leases.max-leases = {view.MaxLeases}; " +
                $"node {claim.Node} gets no new lease", Permanent: true, ClaimDenialKind.TableFull);

        var removed = evicted.Select(e => e.Lease.Subnet).Concat(granted.Removed).Distinct().ToList();
        return new ClaimGrant(granted.Lease, removed, granted.How, evicted, reboundFrom);
    }

    /// <summary>Names every allocation field of the claim that differs from the accepted net-conf, with both values.</summary>
    public static string? ConfMismatch(LeaseClaim claim, NetConf accepted)
    {
        var diffs = new List<string>();
        void Check<T>(string field, T claimed, T cluster)
        {
            if (!EqualityComparer<T>.Default.Equals(claimed, cluster))
                diffs.Add($"{field} {Show(claimed)} (cluster: {Show(cluster)})");
        }
        Check("Network", claim.Conf.Network, accepted.Network);
        Check("SubnetLen", claim.Conf.SubnetLen, accepted.SubnetLen);
        Check("SubnetMin", claim.Conf.SubnetMin, accepted.SubnetMin);
        Check("SubnetMax", claim.Conf.SubnetMax, accepted.SubnetMax);
        return diffs.Count == 0
            ? null
            : $"claim of node {claim.Node} does not match the cluster's accepted net-conf: {string.Join(", ", diffs)}";
    }

    private static string Show<T>(T value) => value?.ToString() ?? "(none)";

    private static ClaimDenial? RequiredSubnetCheck(AllocatorView view, LeaseClaim claim, List<StaleLease> evicted)
    {
        if (view.NodeCidrs is not { } cidrs)
        {
            return claim.RequiredSubnet is { } r
                ? new ClaimDenial(
                    $"claim of node {claim.Node} requires subnet {r}, but a required subnet is only honoured in Kubernetes mode (the node's podCIDR)",
                    Permanent: true, ClaimDenialKind.Unauthorized)
                : null;
        }
        if (claim.RequiredSubnet is not { } required)
            return new ClaimDenial(
                $"claim of node {claim.Node} carries no podCIDR: in Kubernetes mode a node's lease is its podCIDR",
                Permanent: true, ClaimDenialKind.Unauthorized);

        switch (cidrs.Lookup(claim.Node))
        {
            case NodeCidr.Unknown:
                return Pending($"podCIDR of node {claim.Node} is not known yet (the Kubernetes node list is not synced)");
            case NodeCidr.NotFound:
                return Pending($"node {claim.Node} is not in the Kubernetes node list (yet)");
            case NodeCidr.Found { PodCidr: null }:
                return Pending($"node {claim.Node} has no podCIDR in Kubernetes yet");
            case NodeCidr.Found { PodCidr: { } podCidr } when !podCidr.Equals(required):
                return new ClaimDenial(
                    $"claim of node {claim.Node} requires subnet {required}, but its podCIDR in Kubernetes is {podCidr}",
                    Permanent: true, ClaimDenialKind.Unauthorized);
        }

        foreach (var holder in view.Table.Values)
        {
            if (holder.Node == claim.Node || holder.IsExpired(view.Now) || !AddressMath.Overlap(holder.Subnet, required)) continue;
            switch (cidrs.Lookup(holder.Node))
            {
                case NodeCidr.NotFound:
                    evicted.Add(new StaleLease(holder, $"node {holder.Node} no longer exists in Kubernetes"));
                    break;
                case NodeCidr.Found { PodCidr: var theirs } when !holder.Subnet.Equals(theirs):
                    evicted.Add(new StaleLease(holder,
                        $"node {holder.Node} has podCIDR {theirs?.ToString() ?? "(none)"} in Kubernetes, not {holder.Subnet}"));
                    break;
                case NodeCidr.Unknown:
                    return Pending($"podCIDR {required} of node {claim.Node} overlaps the unexpired lease {holder.Subnet} of node " +
                                   $"{holder.Node}, whose Kubernetes node is not known yet");
                default:
                    return new ClaimDenial(
                        $"podCIDR {required} of node {claim.Node} overlaps the unexpired lease {holder.Subnet} of node {holder.Node} " +
                        "(its podCIDR in Kubernetes); waiting for it to go", Permanent: false, ClaimDenialKind.Unauthorized);
            }
        }
        return null;
    }

    private static ClaimDenial Pending(string reason) => new(reason, Permanent: false, ClaimDenialKind.Pending);
}
