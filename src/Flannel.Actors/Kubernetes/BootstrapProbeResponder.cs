using Akka.Actor;
using Akka.Cluster;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// Answers <see cref="BootstrapProbe"/> from other agents with this node's cluster membership. Runs on every agent
/// at /user/<see cref="Name"/> before the bootstrap starts, so the lowest node can tell whether a cluster already exists.
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
            var members = isMember
                ? state.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp).Select(m => m.Address.ToString()).ToArray()
                : [];
            Sender.Tell(new BootstrapProbeReply(isMember, members));
        });
    }
}
