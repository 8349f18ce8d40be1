using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Observability;
using Flannel.Net.Config;
using Microsoft.Extensions.Logging;

// Not "Flannel.Actors.Config": that namespace would hide Akka's Config type from every Flannel.Actors file.
namespace Flannel.Actors.NetConfig;

/// <summary>
/// One versioned net-conf.json for the whole cluster, in a DistributedData LWWRegister whose timestamp is the version.
/// Offers (<see cref="ProposeNetConf"/>, or <see cref="NetConfChanged"/> from the ConfigMap watcher) are checked with
/// <see cref="NetConfChangePolicy"/>: refused ones are logged (event "config refused") and published as
/// <see cref="ClusterNetConfRefused"/>; accepted ones are written with WriteMajority as version latest + 1. Every node
/// (the writer included) sees the new version through its subscription and hands it to the node agent, one at a time;
/// the newest version waiting wins. Identical offers from several nodes (all watch the same ConfigMap) collapse into one
/// version because the write keeps the register when its text is already current. The one owner of the node's net-conf:
/// <see cref="GetClusterNetConf"/> answers `flanneld ctl config show` with the config in force and its cluster version.
/// </summary>
public sealed class ClusterNetConfActor : ReceiveActor
{
    public const string KeyName = "flannel-net-conf";

    private readonly IActorRef _replicator;
    private readonly LWWRegisterKey<string> _key = new(KeyName);
    private readonly UniqueAddress _self;
    private readonly IActorRef _switcher;
    private readonly TimeSpan _writeTimeout;
    private readonly Action<NetConf>? _inForceChanged;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Microsoft.Extensions.Logging.ILogger _events;

    private NetConfInForce _inForce;
    private VersionedNetConf? _latest;
    private long _applied;
    private VersionedNetConf? _switching;
    private VersionedNetConf? _waiting;

    /// <param name="switcher">Who brings the node to a new config (the <see cref="Node.NodeAgentActor"/>): answers
    /// <see cref="ApplyClusterNetConf"/> with <see cref="ClusterNetConfApplied"/>.</param>
    /// <param name="inForceChanged">Told the config in force after each successful switch: the agent keeps it beyond this
    /// actor system, so a rejoining incarnation starts from what the data plane runs, not from the file of the start.</param>
    public ClusterNetConfActor(NetConfInForce initial, IActorRef switcher, TimeSpan writeTimeout, Action<NetConf>? inForceChanged = null)
    {
        _inForce = initial;
        _inForceChanged = inForceChanged;
        _switcher = switcher;
        _writeTimeout = writeTimeout;
        _replicator = DistributedData.Get(Context.System).Replicator;
        _self = Cluster.Get(Context.System).SelfUniqueAddress;
        _events = Context.System.FlannelLogger("Flannel.Config");

        Receive<ProposeNetConf>(OnPropose);
        Receive<NetConfChanged>(m => OnPropose(new ProposeNetConf(m.NetConfJson, $"configmap@{m.ResourceVersion}")));
        Receive<Changed>(c => OnRegister(c.Get(_key)));
        Receive<GetSuccess>(g => OnRegister(g.Get(_key)));
        Receive<NotFound>(_ => { });
        Receive<GetFailure>(_ => { });
        Receive<UpdateSuccess>(_ => { });
        Receive<UpdateTimeout>(_ => _log.Warning("net-conf write reached no majority within {0}; it spreads by gossip", _writeTimeout));
        Receive<ModifyFailure>(f => _log.Error(f.Cause, "net-conf write failed"));
        Receive<ClusterNetConfApplied>(OnApplied);
        Receive<GetClusterNetConf>(_ => Sender.Tell(new ClusterNetConfStatus(_latest, _applied, _inForce)));
    }

    public static Props Props(NetConfInForce initial, IActorRef switcher, TimeSpan? writeTimeout = null,
        Action<NetConf>? inForceChanged = null) =>
        Akka.Actor.Props.Create(() => new ClusterNetConfActor(initial, switcher, writeTimeout ?? TimeSpan.FromSeconds(5), inForceChanged));

    protected override void PreStart()
    {
        _replicator.Tell(Dsl.Subscribe(_key, Self));
        _replicator.Tell(Dsl.Get(_key, ReadLocal.Instance));
    }

    protected override void PostStop() => _replicator.Tell(Dsl.Unsubscribe(_key, Self));

    private void OnPropose(ProposeNetConf offer)
    {
        // Judge against the cluster's newest config (this node may still be switching to it); refusals name the field.
        var baseline = _latest is { } latest && TryParse(latest.Json) is { } latestConf ? latestConf : _inForce.Conf;
        var decision = NetConfChangePolicy.Decide(baseline, offer.Json);
        switch (decision)
        {
            case NetConfDecision.Refuse refuse:
                _events.ConfigRefused(offer.Source, refuse.Reason);
                Context.System.EventStream.Publish(new ClusterNetConfRefused(offer.Source, refuse.Reason));
                Sender.Tell(new NetConfProposalResult("refused", refuse.Reason));
                return;
            case NetConfDecision.Unchanged when _latest is not null || !offer.OnlyIfUnset:
                Sender.Tell(new NetConfProposalResult("unchanged"));
                return;
        }
        if (offer.OnlyIfUnset && _latest is not null)
        {
            // The cluster already has a config; a node's file at start never overrides it (it switches to it instead).
            Sender.Tell(new NetConfProposalResult("unchanged", $"cluster config v{_latest.Version} already set"));
            return;
        }
        if (decision is NetConfDecision.Accept accept)
            _log.Info("net-conf change from {0}: {1}", offer.Source, accept.Summary);

        var json = offer.Json;
        var source = $"{offer.Source} via {_self.Address}";
        var self = _self;
        var onlyIfUnset = offer.OnlyIfUnset;
        _replicator.Tell(Dsl.Update(_key, new LWWRegister<string>(self, "", 0), new WriteMajority(_writeTimeout), register =>
        {
            var current = register.Value.Length == 0 ? null : VersionedNetConf.FromWire(register.Value);
            if (current is not null && (onlyIfUnset || current.Json == json)) return register;
            var next = new VersionedNetConf((current?.Version ?? 0) + 1, json, source, DateTimeOffset.UtcNow);
            return register.WithValue(self, next.ToWire(), (_, _) => next.Version);
        }));
        Sender.Tell(new NetConfProposalResult("written"));
    }

    private void OnRegister(LWWRegister<string> register)
    {
        if (register.Value.Length == 0) return;
        VersionedNetConf config;
        try
        {
            config = VersionedNetConf.FromWire(register.Value);
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            _log.Error("cluster net-conf register is unreadable: {0}", e.Message);
            return;
        }
        if (_latest is not null && config.Version < _latest.Version) return;
        _latest = config;
        Consider(config);
    }

    private void Consider(VersionedNetConf config)
    {
        if (config.Version <= _applied || config == _switching) return;
        if (_switching is not null)
        {
            _waiting = config;
            return;
        }
        switch (NetConfChangePolicy.Decide(_inForce.Conf, config.Json))
        {
            case NetConfDecision.Refuse refuse:
                // A node with another Network wrote it (or a bug let it through): this node keeps what it runs.
                _events.ConfigRefused($"cluster v{config.Version} ({config.Source})", refuse.Reason);
                Context.System.EventStream.Publish(new ClusterNetConfRefused(config.Source, refuse.Reason));
                _applied = config.Version;
                break;
            case NetConfDecision.Unchanged:
                // What this node runs already (perhaps in other words): it runs this cluster version now.
                _applied = config.Version;
                _inForce = _inForce with { Json = config.Json, Source = config.Source, Version = config.Version };
                break;
            case NetConfDecision.Accept accept:
                _log.Info("switching to cluster net-conf v{0} from {1}: {2}", config.Version, config.Source, accept.Summary);
                _switching = config;
                _switcher.Tell(new ApplyClusterNetConf(config, accept.Conf, _inForce.Conf));
                break;
        }
    }

    private void OnApplied(ClusterNetConfApplied done)
    {
        if (_switching is not { } config || config.Version != done.Version) return;
        _switching = null;
        _applied = config.Version;
        if (done.Error is null && TryParse(config.Json) is { } conf)
        {
            _inForce = NetConfInForce.Of(config, conf);
            _inForceChanged?.Invoke(conf);
            _events.ConfigApplied(config.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), config.Source);
        }
        else
        {
            _events.ConfigRefused($"cluster v{config.Version} ({config.Source})", $"cannot switch: {done.Error ?? "unreadable"}; the old config keeps running");
        }
        if (_waiting is { } next)
        {
            _waiting = null;
            Consider(next);
        }
    }

    private static NetConf? TryParse(string json)
    {
        try
        {
            return NetConf.Parse(json);
        }
        catch (NetConfException)
        {
            return null;
        }
    }
}
