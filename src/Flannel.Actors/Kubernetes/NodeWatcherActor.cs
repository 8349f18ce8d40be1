using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// Watches Kubernetes Nodes (list + watch with bookmarks, 410 re-list, backoff; see <see cref="KubeListWatchLoop{T}"/>)
/// and tells subscribers KubeNodeAdded / KubeNodeUpdated / KubeNodeDeleted / KubeNodesSynced. Updates that change
/// nothing flannel cares about (kubelet status heartbeats) are not forwarded.
/// </summary>
public sealed class NodeWatcherActor : ReceiveActor
{
    private readonly IKubernetes _client;
    private readonly string _annotationPrefix;
    private readonly KubeWatchOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, KubeNodeInfo> _nodes = new();
    private readonly HashSet<IActorRef> _subscribers = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly NodeWatchProgress _progress = NodeWatchProgress.Get(Context.System);
    // Changes the current (re)list found, by outcome, for its summary line.
    private readonly int[] _listOutcomes = new int[Enum.GetValues<NodeChangeOutcome>().Length];
    private bool _synced;

    public static Props Props(IKubernetes client, string annotationPrefix = KubeNodeInfoMapper.DefaultAnnotationPrefix,
        KubeWatchOptions? options = null, IActorRef? subscriber = null) =>
        Akka.Actor.Props.Create(() => new NodeWatcherActor(client, annotationPrefix, options ?? KubeWatchOptions.Default, subscriber));

    public NodeWatcherActor(IKubernetes client, string annotationPrefix, KubeWatchOptions options, IActorRef? subscriber)
    {
        _client = client;
        _annotationPrefix = annotationPrefix;
        _options = options;
        if (subscriber is not null) Subscribe(subscriber);

        Receive<KubeObjectChange<V1Node>>(OnChange);
        Receive<KubeListSynced<V1Node>>(OnSynced);
        Receive<SubscribeKubeNodes>(m => Subscribe(m.Subscriber));
        Receive<UnsubscribeKubeNodes>(m =>
        {
            _subscribers.Remove(m.Subscriber);
            Context.Unwatch(m.Subscriber);
        });
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
    }

    protected override void PreStart()
    {
        _progress.Started();
        var self = Self;
        var loop = new KubeListWatchLoop<V1Node>("nodes",
            async (token, limit, ct) =>
            {
                var list = await _client.CoreV1.ListNodeAsync(continueParameter: token, limit: limit, cancellationToken: ct);
                return (list.Items, list.Metadata?.ResourceVersion ?? "", list.Metadata?.ContinueProperty);
            },
            (version, onError, ct) => _client.CoreV1.WatchListNodeAsync(
                resourceVersion: version, allowWatchBookmarks: true, timeoutSeconds: _options.WatchTimeoutSeconds,
                onError: onError, cancellationToken: ct),
            message => self.Tell(message),
            _options, _log);
        _ = loop.RunAsync(_stop.Token);
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private void OnChange(KubeObjectChange<V1Node> change)
    {
        var info = KubeNodeInfoMapper.From(change.Object, _annotationPrefix);
        if (info.Name.Length == 0) return;
        var outcome = Apply(change.Type, info, change.Listed);
        _progress.Applied(outcome, _nodes.Count, change.Object.Metadata?.ResourceVersion);
        if (change.Listed) _listOutcomes[(int)outcome]++;
    }

    private NodeChangeOutcome Apply(KubeChangeType type, KubeNodeInfo info, bool listed)
    {
        if (type == KubeChangeType.Deleted)
        {
            // Report with the last state we knew when the tombstone lacks it.
            var last = _nodes.Remove(info.Name, out var known) ? known : info;
            _log.Info("Node {NodeName} deleted", info.Name);
            Publish(new KubeNodeDeleted(last));
            return NodeChangeOutcome.Deleted;
        }
        if (_nodes.TryGetValue(info.Name, out var previous))
        {
            if (previous.Equals(info)) return NodeChangeOutcome.Unchanged;
            _nodes[info.Name] = info;
            _log.Info("Node {NodeName} updated: podCIDR {PodCidr}, backend {BackendType}, public IP {PublicIp}", info.Name, info.PodCidr, info.BackendType, info.PublicIp);
            Publish(new KubeNodeUpdated(info, previous));
            return NodeChangeOutcome.Updated;
        }
        _nodes[info.Name] = info;
        // A list "adds" every node (thousands at start-up): those go to Debug and the list's summary line says how many.
        _log.Log(listed ? LogLevel.DebugLevel : LogLevel.InfoLevel, "Node {NodeName} added: podCIDR {PodCidr}, backend {BackendType}, public IP {PublicIp}",
            [info.Name, info.PodCidr, info.BackendType, info.PublicIp]);
        Publish(new KubeNodeAdded(info));
        return NodeChangeOutcome.Added;
    }

    private void OnSynced(KubeListSynced<V1Node> synced)
    {
        _synced = true;
        var took = DateTimeOffset.UtcNow - synced.Started;
        _progress.Listed(_nodes.Count, took);
        _log.Info("Listed {Count} nodes in {Seconds:0.00} s: {Added} added, {Updated} updated, {Deleted} deleted, {Unchanged} unchanged", synced.Count, took.TotalSeconds,
            _listOutcomes[(int)NodeChangeOutcome.Added], _listOutcomes[(int)NodeChangeOutcome.Updated],
            _listOutcomes[(int)NodeChangeOutcome.Deleted], _listOutcomes[(int)NodeChangeOutcome.Unchanged]);
        Array.Clear(_listOutcomes);
        Publish(Snapshot());
    }

    private KubeNodesSynced Snapshot() => new(_nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal).ToList());

    private void Subscribe(IActorRef subscriber)
    {
        if (!_subscribers.Add(subscriber)) return;
        Context.Watch(subscriber);
        foreach (var node in _nodes.Values) subscriber.Tell(new KubeNodeAdded(node));
        if (_synced) subscriber.Tell(Snapshot());
    }

    private void Publish(object message)
    {
        foreach (var s in _subscribers) s.Tell(message);
    }
}
