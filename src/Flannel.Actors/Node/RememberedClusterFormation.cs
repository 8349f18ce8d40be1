using Akka.Actor;
using Flannel.Actors.Kubernetes;

namespace Flannel.Actors.Node;

/// <summary>What a node restarting with a durable lease store remembers of the cluster it was a member of.</summary>
/// <param name="Members">Distinct nodes with an unexpired lease in the stored table (this node included if it has one).</param>
/// <param name="OwnLease">This node holds a lease in the stored table.</param>
public sealed record RememberedCluster(int Members, bool OwnLease)
{
    /// <summary>A member of a cluster of several nodes: the others may be alive and running it without us.</summary>
    public bool WasMemberOfOthers => Members >= 2;

    /// <summary>How many of the remembered members must say "no cluster here" before one of them may form it.</summary>
    public int Majority => Members / 2 + 1;
}

public abstract record FormationDecision
{
    /// <summary>Nothing says this node was part of a cluster of others: Akka's start-up as configured (the first seed
    /// forms the cluster after seed-node-timeout when no other seed answers).</summary>
    public sealed record AkkaDefault(string Reason) : FormationDecision;

    /// <summary>Join the running cluster through these members.</summary>
    public sealed record Join(IReadOnlyList<Address> Seeds) : FormationDecision;

    /// <summary>Form the cluster now (Cluster.JoinSeedNodes with only this node); <paramref name="OnTimeout"/>: because
    /// the operator's time-out passed, not because a majority agreed.</summary>
    public sealed record Form(string Reason, bool OnTimeout = false) : FormationDecision;

    /// <summary>Not safe to form, no cluster seen: ask the seeds again next round.</summary>
    public sealed record Wait(string Reason) : FormationDecision;
}

/// <summary>
/// Whether a node that restarts with a lease store may form a cluster of its own (issue 13). Akka's first seed forms a
/// new cluster when no other seed answers within seed-node-timeout; after a restart while it is cut off it would run a
/// second cluster next to the one the others keep, and two clusters never merge (two allocators, duplicate subnets).
/// The rule, in order:
/// <list type="number">
/// <item>Some seed is an Up member of a cluster: join it (always preferred).</item>
/// <item>The store does not show a cluster of several nodes (no store, empty, only this node): Akka's default; the
/// operator starts a new cluster (or one of a single node).</item>
/// <item>A strict majority of the remembered members (this node included) answered that they are in no cluster: the
/// whole cluster is restarting; the lowest address among those that answered forms it, the others wait for it. Two
/// disjoint majorities do not exist, so two sides of a partition never both form one.</item>
/// <item>The operator's time-out (<c>--cluster-form-alone-after</c>) has passed: form, logged (the operator accepts the
/// risk, e.g. after losing a majority of the nodes for good).</item>
/// <item>Otherwise wait (readiness says why), asking again every round; a heal makes rule 1 apply.</item>
/// </list>
/// </summary>
public static class RememberedClusterFormation
{
    /// <param name="self">This node's address.</param>
    /// <param name="remembered">What the store holds; null when there is no store or it could not be read.</param>
    /// <param name="probes">The answer of every other seed this round.</param>
    /// <param name="waited">Time since this node started asking.</param>
    /// <param name="formAloneAfter">The operator's time-out; null = never form alone.</param>
    public static FormationDecision Decide(Address self, RememberedCluster? remembered, IReadOnlyDictionary<Address, ContactProbe> probes,
        TimeSpan waited, TimeSpan? formAloneAfter)
    {
        var members = probes.Values.OfType<ContactProbe.Member>().SelectMany(m => m.Members).Distinct().Where(a => a != self)
            .OrderBy(a => a, AddressOrder.Instance).ToList();
        if (members.Count > 0) return new FormationDecision.Join(members);

        if (remembered is null || !remembered.WasMemberOfOthers)
            return new FormationDecision.AkkaDefault(remembered is null
                ? "no lease table remembered"
                : $"the lease table remembers {remembered.Members} node(s), no cluster of others");

        var answering = probes.Where(p => p.Value is ContactProbe.NotMember).Select(p => p.Key).Append(self).Distinct().ToList();
        if (answering.Count >= remembered.Majority)
        {
            var lowest = answering.Min(AddressOrder.Instance)!;
            return lowest == self
                ? new FormationDecision.Form($"{answering.Count} of the {remembered.Members} remembered members are starting and none is in a cluster; this node is the lowest of them")
                : new FormationDecision.Wait($"{answering.Count} of the {remembered.Members} remembered members are starting; waiting for the lowest, {lowest}, to form the cluster");
        }

        if (formAloneAfter is { } limit && waited >= limit)
            return new FormationDecision.Form($"no seed answered as a member for {waited.TotalSeconds:0} s (--cluster-form-alone-after {limit.TotalSeconds:0}s)", OnTimeout: true);

        return new FormationDecision.Wait(
            $"was a member of a cluster of {remembered.Members} nodes; {answering.Count} of them (this node included) reachable and not in a cluster, " +
            $"{remembered.Majority} needed to form one; not forming a cluster alone while the others may run it");
    }
}
