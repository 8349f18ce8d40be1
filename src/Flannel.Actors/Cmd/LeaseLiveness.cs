using Akka.Cluster;

namespace Flannel.Actors.Cmd;

/// <summary>Decides whether a lease belongs to a node that is alive in the cluster.</summary>
public static class LeaseLiveness
{
    private static readonly HashSet<MemberStatus> Alive =
        [MemberStatus.Joining, MemberStatus.WeaklyUp, MemberStatus.Up, MemberStatus.Leaving];

    /// <summary>
    /// A lease is live when a reachable member in a live status runs on its node: the member's host is the lease's
    /// public IP (agents bind remoting to their public IP) or its node name, or the member carries the role
    /// "node:&lt;name&gt;".
    /// </summary>
    public static bool IsLive(LeaseRow lease, ClusterEvent.CurrentClusterState state) =>
        state.Members.Any(m =>
            Alive.Contains(m.Status)
            && !state.Unreachable.Contains(m)
            && (string.Equals(m.Address.Host, lease.PublicIp, StringComparison.OrdinalIgnoreCase)
                || string.Equals(m.Address.Host, lease.Node, StringComparison.OrdinalIgnoreCase)
                || m.Roles.Contains("node:" + lease.Node)));
}
