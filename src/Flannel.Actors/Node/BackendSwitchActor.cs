using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Flannel.Actors.Leases;
using Flannel.Actors.NetConfig;
using Flannel.Actors.Observability;
using Flannel.Actors.Routes;
using Flannel.Net.Backends;
using Flannel.Net.Config;
using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Node;

/// <summary>
/// Moves this node to a new backend without a restart (<see cref="ApplyClusterNetConf"/> from the
/// <see cref="ClusterNetConfActor"/>): tears the old backend down and brings the new one up on the same lease
/// (<see cref="SwitchableBackend.SwitchTo"/>), re-advertises the lease with the new backend type and data
/// (<see cref="UpdateBackend"/>), rewrites subnet.env (the MTU differs per backend) and has the route programmer
/// reconcile the peers at once (peers still on the old type are skipped by the new backend until they switch too).
/// One switch at a time: the mailbox waits while a switch runs.
/// </summary>
public sealed class BackendSwitchActor : ReceiveActor
{
    private readonly SwitchableBackend _backend;
    private readonly Func<BackendConfig, IBackend> _create;
    private readonly IActorRef _leases;
    private readonly IActorRef _node;
    private readonly AgentStatus _status;
    private readonly INodeEffects _effects;
    private readonly TimeSpan _timeout;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ActorSystem _system = Context.System;
    private readonly Microsoft.Extensions.Logging.ILogger _events;

    public BackendSwitchActor(SwitchableBackend backend, Func<BackendConfig, IBackend> create, IActorRef leases, IActorRef node,
        AgentStatus status, INodeEffects effects, TimeSpan timeout)
    {
        _backend = backend;
        _create = create;
        _leases = leases;
        _node = node;
        _status = status;
        _effects = effects;
        _timeout = timeout;
        _events = Context.System.FlannelLogger("Flannel.Backend");
        ReceiveAsync<ApplyClusterNetConf>(OnApply);
    }

    public static Props Props(SwitchableBackend backend, Func<BackendConfig, IBackend> create, IActorRef leases, IActorRef node,
        AgentStatus status, INodeEffects effects, TimeSpan? timeout = null) =>
        Akka.Actor.Props.Create(() => new BackendSwitchActor(backend, create, leases, node, status, effects, timeout ?? TimeSpan.FromSeconds(30)));

    // No ConfigureAwait(false) here: ReceiveAsync continuations must run in the actor's context.
    private async Task OnApply(ApplyClusterNetConf apply)
    {
        var replyTo = Sender;
        var clock = Stopwatch.StartNew();
        var from = _backend.Type;
        var to = apply.Conf.Backend.Type;
        ClusterNetConfApplied result;
        try
        {
            _status.Update(s => s with { BackendConfigured = false, PeersInSync = false });
            await Task.Run(() => _backend.SwitchTo(_create(apply.Conf.Backend)));
            _status.Update(s => s with { BackendType = _backend.Type, BackendPrepared = true, BackendConfigured = s.Lease is not null });

            var updated = await _leases.Ask<object>(new UpdateBackend(_backend.Type, _backend.LeaseData), _timeout);
            if (updated is BackendUpdateFailed failed)
                throw new InvalidOperationException($"the lease could not be re-advertised with backend {to}: {failed.Reason}");
            if (updated is BackendUpdated { Lease: var lease })
            {
                _effects.WriteSubnetEnv(apply.Conf, lease, _backend.Mtu);
                _status.Update(s => s with { Lease = lease, BackendConfigured = true, SubnetEnvWritten = true });
            }

            var routes = await _node.Ask<RouteProgrammerRef>(GetRouteProgrammer.Instance, _timeout);
            if (routes.Ref is { } programmer)
                await programmer.Ask<ReconcileCompleted>(ReconcileNow.Instance, _timeout);

            _events.BackendSwitched(from, to, clock.Elapsed.TotalMilliseconds);
            var tags = new[] { new KeyValuePair<string, object?>("from", from), new KeyValuePair<string, object?>("to", to) };
            FlannelInstruments.BackendSwitches.Add(1, tags);
            FlannelInstruments.BackendSwitchSeconds.Record(clock.Elapsed.TotalSeconds, tags);
            result = new ClusterNetConfApplied(apply.Config.Version, to, null, clock.Elapsed.TotalMilliseconds);
        }
        catch (Exception e) when (e is InvalidOperationException or AskTimeoutException or TaskCanceledException or IOException
                                       or ArgumentException or Flannel.Net.Netlink.NetlinkException)
        {
            _log.Error(e, "backend switch {0} -> {1} failed", from, to);
            _status.Update(s => s with { BackendType = _backend.Type, BackendConfigured = s.Lease is not null });
            result = new ClusterNetConfApplied(apply.Config.Version, _backend.Type, e.Message, clock.Elapsed.TotalMilliseconds);
        }
        replyTo.Tell(result);
        _system.EventStream.Publish(result);
    }
}
