using Akka.Actor;

namespace Flannel.Actors.Node;

/// <summary>What the first seed learned of another seed while starting.</summary>
public enum SeedContact
{
    /// <summary>Nothing yet.</summary>
    Pending,

    /// <summary>Its host refused the TCP connection to its cluster port: no process listens there, so it runs no cluster member.</summary>
    Refused,

    /// <summary>It answered the bootstrap probe: an agent runs there (a member or not).</summary>
    Answered,

    /// <summary>Anything else: no answer in time, or the association failed in another way (unreachable, TLS).</summary>
    Unknown,
}

public abstract record FirstSeedDecision
{
    /// <summary>Form the cluster now, as Akka's first seed would after seed-node-timeout.</summary>
    public sealed record Form(string Reason) : FirstSeedDecision;

    /// <summary>Hand over to Akka's first-seed process with the configured seeds (it joins a running cluster, forms one when
    /// every other seed says it is in none, or after seed-node-timeout).</summary>
    public sealed record AkkaDefault(string Reason) : FirstSeedDecision;

    /// <summary>Some seed has not been heard of yet.</summary>
    public sealed record Wait : FirstSeedDecision;
}

/// <summary>
/// When the first of the configured seeds may form the cluster without waiting out Akka's seed-node-timeout (issue 12,
/// ready time of a cluster's first node: the 3 s wait was most of its 3.7-4.0 s). Akka's first seed forms a new cluster
/// when every other seed answers that it is in no cluster, or when none answers within seed-node-timeout. A seed whose
/// host refused the connection (TCP reset: nothing listens on its cluster port) is in no cluster, and it will not be
/// before it asks us (the other seeds never form a cluster of their own, they only join), so it counts as such an
/// answer. Only when every other seed refused does the first seed form at once; an answer, a silence or any other
/// failure leaves the start to Akka, exactly as configured. A partition drops packets (no reset), so a first seed cut
/// off from a running cluster still waits the full seed-node-timeout as before (and a restart with a lease store that
/// remembers a cluster goes through <see cref="RememberedClusterFormation"/>, not this).
/// </summary>
public static class FirstSeedFormation
{
    public static FirstSeedDecision Decide(IReadOnlyDictionary<Address, SeedContact> others)
    {
        if (others.Count == 0) throw new ArgumentException("the first seed needs at least one other seed", nameof(others));
        var byKind = others.OrderBy(o => o.Key.ToString(), StringComparer.Ordinal).ToList();
        if (byKind.FirstOrDefault(o => o.Value == SeedContact.Answered) is { Key: not null } answered)
            return new FirstSeedDecision.AkkaDefault($"seed {answered.Key} answers");
        if (byKind.FirstOrDefault(o => o.Value == SeedContact.Unknown) is { Key: not null } unknown)
            return new FirstSeedDecision.AkkaDefault($"seed {unknown.Key} neither answered nor refused the connection");
        if (byKind.Any(o => o.Value == SeedContact.Pending)) return new FirstSeedDecision.Wait();
        return new FirstSeedDecision.Form($"every other seed ({string.Join(",", byKind.Select(o => o.Key))}) refused the connection: none runs a cluster");
    }
}
