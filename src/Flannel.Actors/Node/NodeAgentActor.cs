using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Flannel.Actors.Leases;
using Flannel.Actors.NetConfig;
using Flannel.Actors.Observability;
using Flannel.Actors.Routes;
using Flannel.Net.Config;
using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Node;

/// <summary>
/// The start sequence after the backend is prepared, in flannel's order: acquire the lease, configure the backend for it,
/// write subnet.env, apply the ip-masq rules, then start the <see cref="RouteProgrammerActor"/> that programs the peers.
/// Follows the own lease when it moves (lost race, expiry) and fails the agent when it is lost for good or the backend
/// cannot be configured. Supervises the route programmer (restarted on failure; the kernel state survives).
/// A live backend switch (<see cref="ApplyClusterNetConf"/> from the <see cref="ClusterNetConfActor"/>) runs through here:
/// the <see cref="BackendSwitchActor"/> swaps the data plane and answers with one <see cref="BackendSwitched"/>; this
/// actor, the only writer of subnet.env and the switch's status, then has the peers reconciled, logs and counts the
/// switch once and answers <see cref="ClusterNetConfApplied"/>.
/// </summary>
public sealed class NodeAgentActor : ReceiveActor, IWithTimers
{
    private const string MasqTimer = "masq";

    private readonly NodeAgentSettings _settings;
    private readonly IActorRef _leases;
    private readonly IActorRef? _switcher;
    private readonly AgentStatus _status;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Microsoft.Extensions.Logging.ILogger _events;
    private readonly DateTimeOffset _acquireStarted = DateTimeOffset.UtcNow;
    private Lease? _lease;
    private IActorRef? _routes;
    private bool _masqRunning;
    /// <summary>The net-conf the node runs: the one it started with until a backend switch replaced it.</summary>
    private NetConf _conf;
    private Switch? _switch;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="switcher">The <see cref="BackendSwitchActor"/>; null = live backend switches are refused.</param>
    public NodeAgentActor(NodeAgentSettings settings, IActorRef leases, AgentStatus status, IActorRef? switcher)
    {
        _settings = settings;
        _conf = settings.Conf;
        _leases = leases;
        _switcher = switcher;
        _status = status;
        _events = Context.System.FlannelLogger("Flannel.Node");

        Receive<LeaseAcquired>(m => OnLease(m.Lease, "acquired"));
        Receive<LeaseAcquireFailed>(m => Fail($"cannot acquire a subnet lease: {m.Reason}"));
        // The lease actor logged the loss (event 1003); OnLease logs the new lease.
        Receive<OwnLeaseChanged>(m => OnLease(m.New, m.Reason));
        Receive<OwnLeaseLost>(m => Fail($"lease {m.Old.Subnet} lost: {m.Reason}"));
        Receive<LeaseSnapshot>(m =>
        {
            // A renewal (or re-advertisement) of our own lease: keep the expiration the status shows current. A moved
            // subnet is handled by OwnLeaseChanged, which comes first.
            if (_lease is { } own && m.Own is { } now && now.Subnet.Equals(own.Subnet) && now.Node == own.Node && !now.Equals(own))
            {
                _lease = now;
                _status.Update(s => s with { Lease = now });
            }
        });
        Receive<MasqTick>(_ => CheckMasq());
        Receive<MasqDone>(m =>
        {
            _masqRunning = false;
            if (m.Error is not null) _log.Warning("ip-masq check failed: {0}", m.Error.Message);
            else if (m.Reapplied > 0) _log.Warning("ip-masq: {0} missing rules re-applied", m.Reapplied);
        });
        Receive<GetRouteProgrammer>(_ => Sender.Tell(new RouteProgrammerRef(_routes)));
        Receive<ApplyClusterNetConf>(OnApply);
        Receive<BackendSwitched>(OnSwitched);
        Receive<SwitchReconciled>(m => FinishSwitch(m.Version, m.Error));
    }

    public static Props Props(NodeAgentSettings settings, IActorRef leases, AgentStatus status, IActorRef? switcher = null) =>
        Akka.Actor.Props.Create(() => new NodeAgentActor(settings, leases, status, switcher));

    protected override void PreStart()
    {
        _status.Update(s => s with { BackendType = _settings.Backend.Type, BackendPrepared = true });
        _leases.Tell(new SubscribeLeases(Self, OwnLeaseEvents: true));
        _leases.Tell(AcquireLease.Instance);
        if (_settings.ApiSubnet is { } subnet) SetUpFromApi(subnet);
    }

    /// <summary>
    /// Kubernetes mode, before the lease (<see cref="NodeAgentSettings.ApiSubnet"/>): the backend on the Node's podCIDR
    /// and the route programmer at once, peers from the Nodes' annotations. subnet.env already names this subnet and the
    /// masquerade rules follow with the lease, which can only be this subnet (the allocator grants the podCIDR alone).
    /// A failure here is logged and left to the lease's set-up, which fails the agent if it fails again.
    /// </summary>
    private void SetUpFromApi(System.Net.IPNetwork subnet)
    {
        try
        {
            _settings.Backend.Configure(_conf.Network!.Value, subnet);
        }
        catch (Exception e)
        {
            _log.Warning("backend not set up on podCIDR {0} before the lease: {1}", subnet, e.Message);
            return;
        }
        _status.Update(s => s with { BackendConfigured = true });
        _events.DataPlaneFromApi(subnet.ToString(), _settings.NodeName);
        StartRoutes();
    }

    private void StartRoutes()
    {
        var routes = _settings.Routes with { Network = _settings.Routes.Network ?? _conf.Network };
        _routes = Context.ActorOf(RouteProgrammerActor.Props(_leases, _settings.Backend, routes, _status), "routes");
        Timers.StartPeriodicTimer(MasqTimer, MasqTick.Instance, _settings.MasqResync);
    }

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: 10, withinTimeRange: TimeSpan.FromMinutes(1), ex =>
        {
            _log.Error(ex, "route programmer failed; restarting it");
            return Directive.Restart;
        });

    private void OnLease(Lease lease, string how)
    {
        var previous = _lease;
        _lease = lease;
        var conf = _conf;
        if (previous is null)
        {
            var seconds = (DateTimeOffset.UtcNow - _acquireStarted).TotalSeconds;
            FlannelInstruments.LeaseAcquireSeconds.Record(seconds, new KeyValuePair<string, object?>("result", "ok"));
        }
        _events.LeaseAcquired(lease.Subnet.ToString(), lease.Node, lease.PublicIp.ToString(), lease.Expiration);
        _status.Update(s => s with { Lease = lease, PublicIp = lease.PublicIp.ToString() });
        if (previous is not null && previous.Subnet.Equals(lease.Subnet)) return;

        try
        {
            _settings.Backend.Configure(conf.Network!.Value, lease.Subnet);
            _status.Update(s => s with { BackendConfigured = true });
            _settings.Effects.WriteSubnetEnv(conf, lease, _settings.Backend.Mtu);
            _status.Update(s => s with { SubnetEnvWritten = true });
            _settings.Effects.EnsureMasq(conf, lease);
            _status.Update(s => s with { MasqApplied = true });
        }
        catch (Exception e)
        {
            Fail($"cannot set up the node for lease {lease.Subnet} ({how}): {e.Message}");
            return;
        }
        _log.Info("node set up for lease {0} ({1}): backend {2}, mtu {3}", lease.Subnet, how, _settings.Backend.Type, _settings.Backend.Mtu);

        if (_routes is null) StartRoutes();
        else
        {
            // The own subnet moved, or the lease came after the set-up from the API: compare everything again.
            _routes.Tell(ReconcileNow.Instance);
        }
    }

    private void CheckMasq()
    {
        if (_masqRunning || _lease is not { } lease) return;
        _masqRunning = true;
        var effects = _settings.Effects;
        var conf = _conf;
        // Awaits iptables-save instead of blocking a thread-pool worker on it every --iptables-resync (issue 12).
        Task.Run(() => effects.EnsureMasqAsync(conf, lease)).ContinueWith(
            t => new MasqDone(t.IsCompletedSuccessfully ? t.Result : 0, t.Exception?.GetBaseException()),
            TaskScheduler.Default).PipeTo(Self);
    }

    private void OnApply(ApplyClusterNetConf apply)
    {
        if (_switcher is null || _switch is not null)
        {
            var why = _switcher is null ? "this node cannot switch backends live" : $"a switch to v{_switch!.Apply.Config.Version} is running";
            Sender.Tell(new ClusterNetConfApplied(apply.Config.Version, _settings.Backend.Type, why, 0));
            return;
        }
        _switch = new Switch(apply, Sender, _settings.Backend.Type, Stopwatch.StartNew());
        _status.Update(s => s with { BackendConfigured = false, PeersInSync = false });
        _switcher.Tell(apply);
    }

    private void OnSwitched(BackendSwitched done)
    {
        if (_switch is not { } sw || !ReferenceEquals(sw.Apply, done.Apply)) return;
        var version = sw.Apply.Config.Version;
        if (done.BackendReplaced) _conf = sw.Apply.Conf;
        // Before the node is set up for its first lease there is nothing to rewrite: the start sequence configures the
        // backend now running and writes subnet.env when the lease comes.
        var setUp = _lease is not null;
        if (setUp && done.Lease is { } lease) _lease = lease;
        var subnetEnvWritten = false;
        string? error = done.Error;
        if (done.Error is null && setUp && done.Lease is { } advertised)
        {
            try
            {
                // FLANNEL_MTU differs per backend: the pods started from now on must get the new one.
                _settings.Effects.WriteSubnetEnv(_conf, advertised, done.Mtu);
                subnetEnvWritten = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error = $"subnet.env not rewritten: {e.Message}";
            }
        }
        _status.Update(s => s with
        {
            BackendType = done.BackendType,
            BackendPrepared = true,
            BackendConfigured = setUp,
            Lease = _lease ?? s.Lease,
            SubnetEnvWritten = s.SubnetEnvWritten || subnetEnvWritten,
        });
        if (error is not null || _routes is null)
        {
            FinishSwitch(version, error);
            return;
        }
        // Peers still on the old type are skipped by the new backend until they switch too.
        _routes.Ask<ReconcileCompleted>(ReconcileNow.Instance, SwitchReconcileTimeout).PipeTo(Self,
            success: _ => new SwitchReconciled(version, null),
            failure: e => new SwitchReconciled(version, $"reconcile after the switch: {e.Message}"));
    }

    private static readonly TimeSpan SwitchReconcileTimeout = TimeSpan.FromSeconds(30);

    private void FinishSwitch(long version, string? error)
    {
        if (_switch is not { } sw || sw.Apply.Config.Version != version) return;
        _switch = null;
        var to = _settings.Backend.Type;
        var elapsed = sw.Clock.Elapsed;
        if (error is null)
        {
            _events.BackendSwitched(sw.From, to, elapsed.TotalMilliseconds);
            var tags = new[] { new KeyValuePair<string, object?>("from", sw.From), new KeyValuePair<string, object?>("to", to) };
            FlannelInstruments.BackendSwitches.Add(1, tags);
            FlannelInstruments.BackendSwitchSeconds.Record(elapsed.TotalSeconds, tags);
        }
        var result = new ClusterNetConfApplied(version, to, error, elapsed.TotalMilliseconds);
        sw.ReplyTo.Tell(result);
        Context.System.EventStream.Publish(result);
    }

    private void Fail(string reason)
    {
        _log.Error("agent failed: {0}", reason);
        _status.Fail(reason);
    }

    private sealed record MasqTick
    {
        public static readonly MasqTick Instance = new();
    }

    private sealed record MasqDone(int Reapplied, Exception? Error);

    /// <summary>A backend switch under way: who waits for it, from which backend, since when.</summary>
    private sealed record Switch(ApplyClusterNetConf Apply, IActorRef ReplyTo, string From, Stopwatch Clock);

    private sealed record SwitchReconciled(long Version, string? Error);
}
