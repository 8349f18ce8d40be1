using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Flannel.Actors.Routes;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// Kubernetes mode: tells the route programmer which Nodes carry flannel's annotations and which hosts run a live member
/// of our cluster, so Nodes on upstream flannel (or on an agent not in the cluster right now) are programmed from their
/// annotations (<see cref="ForeignPeers"/> decides). Publishes only when the view changes; before the first complete
/// Node list it publishes nothing (an empty view would withdraw nothing, but a partial one could flap). A rejoining
/// incarnation starts from the Node list the previous one knew (<see cref="ForeignNodeMemory"/>), so it publishes at once
/// instead of waiting for an API server that may still be out of reach.
/// </summary>
public sealed class ForeignNodesActor : ReceiveActor
{
    private readonly IActorRef _watcher;
    private readonly ForeignNodeMemory? _memory;
    private readonly Dictionary<string, ForeignNode> _nodes = new(StringComparer.Ordinal);
    private readonly HashSet<IActorRef> _subscribers = [];
    private readonly Dictionary<UniqueAddress, Member> _members = new();
    private ImmutableHashSet<string> _memberHosts = ImmutableHashSet<string>.Empty;
    private ForeignNodeView? _published;
    private bool _listed;

    public ForeignNodesActor(IActorRef watcher, ForeignNodeMemory? memory = null)
    {
        _watcher = watcher;
        _memory = memory;
        if (memory?.Last is { } last)
        {
            foreach (var n in last) _nodes[n.Name] = n;
            _listed = true;
        }
        Receive<KubeNodeAdded>(m => Set(m.Node));
        Receive<KubeNodeUpdated>(m => Set(m.Node));
        Receive<KubeNodeDeleted>(m => { _nodes.Remove(m.Node.Name); Publish(); });
        Receive<KubeNodesSynced>(m =>
        {
            _nodes.Clear();
            foreach (var n in m.Nodes) _nodes[n.Name] = From(n);
            _listed = true;
            Publish();
        });
        Receive<ClusterEvent.CurrentClusterState>(s =>
        {
            _members.Clear();
            foreach (var m in s.Members) Track(m);
            // No member yet (a rejoining incarnation): the remembered Nodes are still worth publishing.
            Publish();
        });
        Receive<ClusterEvent.IMemberEvent>(e => Track(e.Member));
        Receive<SubscribeForeignNodes>(m =>
        {
            if (!_subscribers.Add(m.Subscriber)) return;
            Context.Watch(m.Subscriber);
            if (_published is { } v) m.Subscriber.Tell(new ForeignNodesChanged(v));
        });
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
    }

    /// <param name="memory">Kept across incarnations: this actor starts from it and keeps it current.</param>
    public static Props Props(IActorRef watcher, ForeignNodeMemory? memory = null) => Akka.Actor.Props.Create(() => new ForeignNodesActor(watcher, memory));

    protected override void PreStart()
    {
        _watcher.Tell(new SubscribeKubeNodes(Self));
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    /// <summary>Joining/WeaklyUp/Up/Leaving members run an agent; Exiting/Down/Removed ones no longer do.</summary>
    private static bool IsAlive(Member m) =>
        m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up or MemberStatus.Leaving;

    private static string Host(Member m) => m.Address.Host ?? "";

    private void Track(Member m)
    {
        if (IsAlive(m)) _members[m.UniqueAddress] = m;
        else _members.Remove(m.UniqueAddress);
        _memberHosts = _members.Values.Select(Host).ToImmutableHashSet(StringComparer.Ordinal);
        Publish();
    }

    public static ForeignNode From(KubeNodeInfo n) => new(n.Name, n.PodCidr, n.IsFlannelManaged, n.BackendType, n.BackendData, n.PublicIp);

    private void Set(KubeNodeInfo node)
    {
        _nodes[node.Name] = From(node);
        Publish();
    }

    private void Publish()
    {
        if (!_listed) return;
        var view = new ForeignNodeView(_nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal).ToList(), _memberHosts);
        if (_published is { } last && last.Nodes.SequenceEqual(view.Nodes) && last.MemberHosts!.SetEquals(view.MemberHosts!)) return;
        _published = view;
        _memory?.Remember(view.Nodes);
        foreach (var s in _subscribers) s.Tell(new ForeignNodesChanged(view));
    }
}
