using Akka.Actor;

namespace Flannel.Actors.Kubernetes;

/// <summary>Subscribes to the <see cref="NodeWatcherActor"/> and keeps a <see cref="KubeNodeCidrAuthority"/> current.</summary>
public sealed class NodeCidrFeederActor : ReceiveActor
{
    private readonly IActorRef _watcher;

    public NodeCidrFeederActor(IActorRef watcher, KubeNodeCidrAuthority authority)
    {
        _watcher = watcher;
        Receive<KubeNodeAdded>(m => authority.Set(m.Node));
        Receive<KubeNodeUpdated>(m => authority.Set(m.Node));
        Receive<KubeNodeDeleted>(m => authority.Remove(m.Node.Name));
        Receive<KubeNodesSynced>(m => authority.Replace(m.Nodes));
    }

    public static Props Props(IActorRef watcher, KubeNodeCidrAuthority authority) =>
        Akka.Actor.Props.Create(() => new NodeCidrFeederActor(watcher, authority));

    protected override void PreStart() => _watcher.Tell(new SubscribeKubeNodes(Self));
}
