using Akka.Actor;
using Akka.Cluster;

namespace Flannel.Actors.Cmd;

/// <summary>Turns Akka's cluster state into the palette's views; pure, so it is tested without a cluster.</summary>
public static class ClusterViews
{
    /// <summary>The system runs the cluster provider (palettes also run in plain local systems, e.g. tools and tests).</summary>
    public static bool IsClustered(ActorSystem system) =>
        system is ExtendedActorSystem { Provider: ClusterActorRefProvider };

    public static ClusterView Show(ClusterEvent.CurrentClusterState state, Address self)
    {
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var members = state.Members
            .Concat(state.Unreachable.Where(u => !state.Members.Contains(u)))
            .OrderBy(m => m.Address.ToString(), StringComparer.Ordinal)
            .Select(m => new MemberRow(
                m.Address.ToString(),
                m.Status.ToString(),
                m.Roles.OrderBy(r => r, StringComparer.Ordinal).ToList(),
                Reachable: !unreachable.Contains(m.Address),
                IsLeader: m.Address.Equals(state.Leader),
                IsSelf: m.Address.Equals(self)))
            .ToList();
        return new ClusterView(self.ToString(), state.Leader?.ToString(), members,
            unreachable.Select(a => a.ToString()).OrderBy(a => a, StringComparer.Ordinal).ToList());
    }

    /// <summary>Maps a membership event for `cluster tail`; null for events the tail does not show.</summary>
    public static ClusterEventRow? Event(object e, DateTimeOffset now) => e switch
    {
        ClusterEvent.MemberStatusChange m => Row(now, m.GetType().Name, m.Member),
        ClusterEvent.UnreachableMember u => Row(now, "MemberUnreachable", u.Member),
        ClusterEvent.ReachableMember r => Row(now, "MemberReachable", r.Member),
        ClusterEvent.LeaderChanged l => new ClusterEventRow(now, "LeaderChanged", l.Leader?.ToString() ?? "(none)", null, []),
        _ => null,
    };

    private static ClusterEventRow Row(DateTimeOffset now, string name, Member m) =>
        new(now, name, m.Address.ToString(), m.Status.ToString(), m.Roles.OrderBy(r => r, StringComparer.Ordinal).ToList());

    /// <summary>
    /// Parses an address given by the operator: a full Akka address (akka.ssl.tcp://flannel@10.0.0.2:4053) or just
    /// host:port, which is completed with this cluster's protocol and system name. A full address with another
    /// protocol than this cluster's is refused: Akka would silently ignore a join or down for it.
    /// </summary>
    public static Address ParseAddress(string text, Address self)
    {
        if (text.Contains("://", StringComparison.Ordinal))
        {
            Address parsed;
            try { parsed = Address.Parse(text); }
            catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
            {
                throw new FormatException($"address '{text}' is not an Akka address ({self.Protocol}://system@host:port): {e.Message}");
            }
            if (parsed.Protocol != self.Protocol)
                throw new FormatException(
                    $"address '{text}' uses protocol {parsed.Protocol} but this cluster uses {self.Protocol} (give host:port to use the cluster's)");
            return parsed;
        }
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is <= 0 or > 65535)
            throw new FormatException($"address '{text}' must be host:port or {self.Protocol}://system@host:port");
        var host = text[..colon].Trim('[', ']');
        return new Address(self.Protocol, self.System, host, port);
    }
}
