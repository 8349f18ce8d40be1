using Akka.Actor;
using Akka.Event;
using k8s;
using k8s.Models;

namespace Flannel.Actors.Kubernetes;

/// <summary>
/// Watches one ConfigMap (by default kube-flannel/kube-flannel-cfg) with the shared <see cref="KubeListWatchLoop{T}"/>
/// (get by name, then a watch with a metadata.name field selector: both allowed by an RBAC rule limited to this name)
/// and tells subscribers <see cref="NetConfChanged"/> whenever the text under the key (net-conf.json) changes.
/// Whether the new text is acceptable is the subscriber's decision.
/// </summary>
public sealed class ConfigMapWatcherActor : ReceiveActor
{
    public const string DefaultNamespace = "kube-flannel";
    public const string DefaultName = "kube-flannel-cfg";
    public const string DefaultKey = "net-conf.json";

    private readonly IKubernetes _client;
    private readonly string _namespace;
    private readonly string _name;
    private readonly string _key;
    private readonly KubeWatchOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<IActorRef> _subscribers = new();
    private readonly CancellationTokenSource _stop = new();
    private NetConfChanged? _current;

    public static Props Props(IKubernetes client, string ns = DefaultNamespace, string name = DefaultName, string key = DefaultKey,
        KubeWatchOptions? options = null, IActorRef? subscriber = null) =>
        Akka.Actor.Props.Create(() => new ConfigMapWatcherActor(client, ns, name, key, options ?? KubeWatchOptions.Default, subscriber));

    public ConfigMapWatcherActor(IKubernetes client, string ns, string name, string key, KubeWatchOptions options, IActorRef? subscriber)
    {
        _client = client;
        _namespace = ns;
        _name = name;
        _key = key;
        _options = options;
        if (subscriber is not null) Subscribe(subscriber);

        Receive<KubeObjectChange<V1ConfigMap>>(OnChange);
        Receive<KubeListSynced<V1ConfigMap>>(s =>
        {
            if (s.Count == 0) _log.Warning("ConfigMap {Namespace}/{Name} does not exist; keeping the current network config", _namespace, _name);
        });
        Receive<SubscribeNetConf>(m => Subscribe(m.Subscriber));
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
    }

    protected override void PreStart()
    {
        var self = Self;
        var selector = $"metadata.name={_name}";
        var loop = new KubeListWatchLoop<V1ConfigMap>($"configmap {_namespace}/{_name}",
            // A GET of the one object instead of a list: RBAC then grants configmaps get/watch for this name only
            // (resourceNames), not a list of every ConfigMap in the namespace. The watch starts without a
            // resourceVersion ("now", with the current object as a synthetic ADDED): an object's own resourceVersion
            // can be older than etcd's compaction window (a ConfigMap unchanged for days), and a watch from it would
            // only ever answer 410 Gone. Bookmarks then keep the resume point fresh.
            async (_, _, ct) =>
            {
                try
                {
                    var cm = await _client.CoreV1.ReadNamespacedConfigMapAsync(name: _name, namespaceParameter: _namespace, cancellationToken: ct);
                    return ((IList<V1ConfigMap>)new List<V1ConfigMap> { cm }, "", (string?)null);
                }
                catch (k8s.Autorest.HttpOperationException e) when ((int?)e.Response?.StatusCode == 404)
                {
                    return ((IList<V1ConfigMap>)new List<V1ConfigMap>(), "", (string?)null);
                }
            },
            (version, onError, ct) => _client.CoreV1.WatchListNamespacedConfigMapAsync(namespaceParameter: _namespace,
                fieldSelector: selector, resourceVersion: version, allowWatchBookmarks: true,
                timeoutSeconds: _options.WatchTimeoutSeconds, onError: onError, cancellationToken: ct),
            message => self.Tell(message),
            _options, _log);
        _ = loop.RunAsync(_stop.Token);
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private void OnChange(KubeObjectChange<V1ConfigMap> change)
    {
        if (change.Type == KubeChangeType.Deleted)
        {
            _log.Warning("ConfigMap {Namespace}/{Name} was deleted; keeping the current network config", _namespace, _name);
            return;
        }
        if (change.Object.Data is null || !change.Object.Data.TryGetValue(_key, out var text))
        {
            _log.Warning("ConfigMap {Namespace}/{Name} has no key {Key}; keeping the current network config", _namespace, _name, _key);
            return;
        }
        if (_current?.NetConfJson == text) return;
        _current = new NetConfChanged(text, change.Object.Metadata?.ResourceVersion ?? "");
        _log.Info("ConfigMap {Namespace}/{Name} {Key} changed at resourceVersion {ResourceVersion}", _namespace, _name, _key, _current.ResourceVersion);
        foreach (var s in _subscribers) s.Tell(_current);
    }

    private void Subscribe(IActorRef subscriber)
    {
        if (!_subscribers.Add(subscriber)) return;
        Context.Watch(subscriber);
        if (_current is not null) subscriber.Tell(_current);
    }
}
