using Akka.Actor;
using Akka.Cluster;

namespace Flannel.Actors.Cmd;

/// <summary>
/// Streams membership events to one `cluster tail` client, starting with the current members, until the
/// subscriber (the connection's sink) stops.
/// </summary>
public sealed class ClusterTailActor : ReceiveActor
{
    private readonly IActorRef _subscriber;
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    public ClusterTailActor(IActorRef subscriber)
    {
        _subscriber = subscriber;
        Receive<Terminated>(t => t.ActorRef.Equals(_subscriber), _ => Context.Stop(Self));
        Receive<ClusterEvent.IClusterDomainEvent>(e =>
        {
            if (ClusterViews.Event(e, DateTimeOffset.UtcNow) is { } row) _subscriber.Tell(new CmdStreamItem(row));
        });
    }

    public static Props Props(IActorRef subscriber) => Akka.Actor.Props.Create(() => new ClusterTailActor(subscriber));

    protected override void PreStart()
    {
        Context.Watch(_subscriber);
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.LeaderChanged));
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);
}
