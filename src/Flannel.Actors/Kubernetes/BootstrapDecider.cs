using System.Net;
using Akka.Actor;

namespace Flannel.Actors.Kubernetes;

/// <summary>What a contact point said when asked whether it belongs to a cluster.</summary>
public abstract record ContactProbe
{
    /// <summary>It is Up in a cluster whose Up members are <paramref name="Members"/>.</summary>
    public sealed record Member(IReadOnlyList<Address> Members) : ContactProbe;

    public sealed record NotMember : ContactProbe;

    public sealed record NoAnswer : ContactProbe;
}

public abstract record BootstrapDecision
{
    /// <summary>Not safe to act yet; ask again next round.</summary>
    public sealed record Wait(string Reason) : BootstrapDecision;

    /// <summary>Form a new cluster: JoinSeedNodes with only ourselves.</summary>
    public sealed record Form : BootstrapDecision;

    /// <summary>Join the existing cluster through these members.</summary>
    public sealed record Join(IReadOnlyList<Address> Seeds) : BootstrapDecision;
}

/// <summary>
/// The rule that never forms two clusters: joining an existing cluster is always preferred; a new cluster is formed
/// only by the lowest contact point, only after <c>stableRounds</c> consecutive lookups returned the same contacts, and
/// only when every other contact answered that it is not a member of any cluster. Everyone else waits for the lowest.
/// </summary>
public static class BootstrapDecider
{
    public static BootstrapDecision Decide(Address self, IReadOnlyList<IReadOnlySet<Address>> lookups, IReadOnlyDictionary<Address, ContactProbe> probes, int stableRounds = 2)
    {
        var members = probes.Values.OfType<ContactProbe.Member>().SelectMany(m => m.Members).Distinct().Where(a => a != self).ToList();
        if (members.Count > 0) return new BootstrapDecision.Join(members.OrderBy(a => a, AddressOrder.Instance).ToList());

        if (lookups.Count < stableRounds) return new BootstrapDecision.Wait($"{lookups.Count} of {stableRounds} lookups done");
        var recent = lookups.Skip(lookups.Count - stableRounds).ToList();
        var contacts = recent[^1];
        if (recent.Any(l => !l.SetEquals(contacts))) return new BootstrapDecision.Wait("contact points changed between lookups");
        if (!contacts.Contains(self)) return new BootstrapDecision.Wait($"this node {self} is not among the {contacts.Count} contact points yet");

        var lowest = contacts.Min(AddressOrder.Instance)!;
        if (lowest != self) return new BootstrapDecision.Wait($"waiting for the lowest contact point {lowest} to form the cluster");

        foreach (var contact in contacts.Where(c => c != self).OrderBy(c => c, AddressOrder.Instance))
        {
            if (!probes.TryGetValue(contact, out var probe) || probe is ContactProbe.NoAnswer)
                return new BootstrapDecision.Wait($"contact point {contact} has not answered whether it is a member");
        }
        return new BootstrapDecision.Form();
    }
}

/// <summary>Orders addresses by IP (numerically; hostnames after IPs, ordinally), then port.</summary>
public sealed class AddressOrder : IComparer<Address>
{
    public static readonly AddressOrder Instance = new();

    public int Compare(Address? x, Address? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var hx = x.Host ?? "";
        var hy = y.Host ?? "";
        var ix = IPAddress.TryParse(hx, out var ax);
        var iy = IPAddress.TryParse(hy, out var ay);
        int c;
        if (ix && iy)
        {
            var bx = ax!.GetAddressBytes();
            var by = ay!.GetAddressBytes();
            c = bx.Length.CompareTo(by.Length);
            if (c == 0) c = bx.AsSpan().SequenceCompareTo(by);
        }
        else if (ix != iy) c = ix ? -1 : 1;
        else c = string.CompareOrdinal(hx, hy);
        return c != 0 ? c : (x.Port ?? 0).CompareTo(y.Port ?? 0);
    }
}
