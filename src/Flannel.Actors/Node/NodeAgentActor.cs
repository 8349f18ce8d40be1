using Akka.Actor;
using Akka.Event;
using Flannel.Actors.Leases;
using Flannel.Actors.Observability;
using Flannel.Actors.Routes;
using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Node;

/// <summary>
/// The start sequence after the backend is prepared, in flannel's order: acquire the lease, configure the backend for it,
/// write subnet.env, apply the ip-masq rules, then start the <see cref="RouteProgrammerActor"/> that programs the peers.
/// Follows the own lease when it moves (lost race, expiry) and fails the agent when it is lost for good or the backend
/// cannot be configured. Supervises the route programmer (restarted on failure; the kernel state survives).
/// </summary>
public sealed class NodeAgentActor : ReceiveActor, IWithTimers
{
    private const string MasqTimer = "masq";

    private readonly NodeAgentSettings _settings;
    private readonly IActorRef _leases;
    private readonly AgentStatus _status;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Microsoft.Extensions.Logging.ILogger _events;
    private readonly DateTimeOffset _acquireStarted = DateTimeOffset.UtcNow;
    private Lease? _lease;
    private IActorRef? _routes;
    private bool _masqRunning;

    public ITimerScheduler Timers { get; set; } = null!;

    public NodeAgentActor(NodeAgentSettings settings, IActorRef leases, AgentStatus status)
    {
        _settings = settings;
        _leases = leases;
        _status = status;
        _events = Context.System.FlannelLogger("Flannel.Node");

        Receive<LeaseAcquired>(m => OnLease(m.Lease, "acquired"));
        Receive<LeaseAcquireFailed>(m => Fail($"cannot acquire a subnet lease: {m.Reason}"));
        Receive<OwnLeaseChanged>(m =>
        {
            _events.LeaseLost(m.Old?.Subnet.ToString() ?? "-", m.Reason);
            OnLease(m.New, m.Reason);
        });
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
    }

    public static Props Props(NodeAgentSettings settings, IActorRef leases, AgentStatus status) =>
        Akka.Actor.Props.Create(() => new NodeAgentActor(settings, leases, status));

    protected override void PreStart()
    {
        _status.Update(s => s with { BackendType = _settings.Backend.Type, BackendPrepared = true });
        _leases.Tell(new SubscribeLeases(Self, OwnLeaseEvents: true));
        _leases.Tell(AcquireLease.Instance);
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
        var conf = _settings.Conf;
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

        if (_routes is null)
        {
            var routes = _settings.Routes with { Network = _settings.Routes.Network ?? conf.Network };
            _routes = Context.ActorOf(RouteProgrammerActor.Props(_leases, _settings.Backend, routes, _status), "routes");
            Timers.StartPeriodicTimer(MasqTimer, MasqTick.Instance, _settings.MasqResync);
        }
        else
        {
            // The own subnet moved: peers are unchanged but the backend was re-addressed; compare everything again.
            _routes.Tell(ReconcileNow.Instance);
        }
    }

    private void CheckMasq()
    {
        if (_masqRunning || _lease is not { } lease) return;
        _masqRunning = true;
        var effects = _settings.Effects;
        var conf = _settings.Conf;
        Task.Run(() => effects.EnsureMasq(conf, lease)).ContinueWith(
            t => new MasqDone(t.IsCompletedSuccessfully ? t.Result : 0, t.Exception?.GetBaseException()),
            TaskScheduler.Default).PipeTo(Self);
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
}
