using Akka.Cluster;

namespace Flannel.Actors.Node;

/// <summary>What this node can tell about its side of the cluster from the members it sees.</summary>
public abstract record QuorumVerdict
{
    /// <summary>This node is not (yet) an Up member: nothing to say; whoever set the partition reason keeps it.</summary>
    public sealed record Unknown : QuorumVerdict;

    /// <summary>A majority of the members is reachable: lease changes (WriteMajority) can succeed.</summary>
    public sealed record Majority(int Reachable, int Members) : QuorumVerdict;

    /// <summary>Half or fewer reachable: every lease change fails until the partition heals or the resolver decides.</summary>
    public sealed record NoMajority(int Reachable, int Members) : QuorumVerdict
    {
        public string Reason => $"no majority: {Reachable} of {Members} members reachable";
    }
}

/// <summary>One member as this node sees it.</summary>
/// <param name="Counts">Part of the cluster for the majority (every status but Removed: a Down or Exiting member still
/// holds its place until it is removed).</param>
/// <param name="Reachable">Alive (Joining, WeaklyUp, Up, Leaving) and not marked unreachable: a Down member counts but
/// is never reachable.</param>
public sealed record MemberSight(string Address, bool Counts, bool Reachable)
{
    /// <summary>
    /// A member of the given status. Joining members count: a node cut off while it still saw the others as Joining
    /// would otherwise judge itself on the majority side (2 Up of 2, while the cluster has 5). They are heartbeated like
    /// every member (Akka.Cluster 1.5 monitors all members, Joining included), so a reachable joiner does not make a
    /// starting cluster look partitioned, and an unreachable one is marked so.
    /// </summary>
    public static MemberSight Of(string address, MemberStatus status, bool markedUnreachable) =>
        new(address, status != MemberStatus.Removed,
            status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up or MemberStatus.Leaving && !markedUnreachable);
}

/// <summary>
/// Pure rule behind the "partitioned" readiness reason: the members that count and how many of them this node reaches.
/// Majority means more than half, as WriteMajority needs N/2+1 replicas; an even split is "no majority" on both sides.
/// </summary>
public static class ClusterQuorum
{
    public static QuorumVerdict Judge(IEnumerable<MemberSight> members, string self, bool selfUp)
    {
        if (!selfUp) return new QuorumVerdict.Unknown();
        var counted = members.Where(m => m.Counts).ToList();
        if (counted.All(m => m.Address != self)) return new QuorumVerdict.Unknown();
        var reachable = counted.Count(m => m.Reachable && m.Counts);
        return reachable * 2 > counted.Count
            ? new QuorumVerdict.Majority(reachable, counted.Count)
            : new QuorumVerdict.NoMajority(reachable, counted.Count);
    }
}
