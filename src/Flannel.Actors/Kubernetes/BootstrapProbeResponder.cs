using Akka.Actor;
using Akka.Cluster;
using Flannel.Actors.Node;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// Answers <see cref="BootstrapProbe"/> from other agents with this node's cluster membership. Runs on every agent
/// at /user/<see cref="Name"/> before the bootstrap starts, so the lowest node can tell whether a cluster already exists.
/// A member that reaches no majority of its cluster (<see cref="ClusterQuorum"/>: the minority side of a partition, soon
/// downed) does not answer: a node joining through it would join the side that is going away, and "no answer" is what
/// the asker gets from anyone cut off, which never leads to a join or to forming a cluster.
/// </summary>
public sealed class BootstrapProbeResponder : ReceiveActor
{
    public const string Name = "flannel-bootstrap-probe";

    public static Props Props() => Akka.Actor.Props.Create(() => new BootstrapProbeResponder());

    public BootstrapProbeResponder()
    {
        var cluster = Cluster.Get(Context.System);
        Receive<BootstrapProbe>(_ =>
        {
            var state = cluster.State;
            var isMember = cluster.SelfMember.Status is MemberStatus.Up or MemberStatus.WeaklyUp;
            if (isMember && ClusterQuorum.Judge(Sights(state), cluster.SelfAddress.ToString(), selfUp: true) is QuorumVerdict.NoMajority) return;
            var members = isMember
                ? state.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp).Select(m => m.Address.ToString()).ToArray()
                : [];
            Sender.Tell(new BootstrapProbeReply(isMember, members));
        });
    }

    private static IEnumerable<MemberSight> Sights(ClusterEvent.CurrentClusterState state)
    {
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        return state.Members.Select(m => MemberSight.Of(m.Address.ToString(), m.Status, unreachable.Contains(m.Address)));
    }
}
