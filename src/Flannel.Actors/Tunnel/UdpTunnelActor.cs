using Akka.Actor;
using Akka.Event;
using Flannel.Actors.Node;

namespace Flannel.Actors.Tunnel;

/// <summary>
/// Watches the udp backend's data path from the actor side. Packets never come here: the tunnel's own threads move them,
/// and the route programmer's reconcile pushes the peer table (UdpBackend.Reconcile -> UdpTunnel.UpdatePeers). This actor
/// checks every <c>interval</c> that no worker thread died (a dead worker silently black-holes its queue's traffic, so
/// the agent fails and is restarted) and answers counter queries; it logs drop counts when they grow.
/// </summary>
public sealed class UdpTunnelActor : ReceiveActor, IWithTimers
{
    private readonly UdpTunnelProbe _probe;
    private readonly AgentStatus _status;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _lastDrops;

    public ITimerScheduler Timers { get; set; } = null!;

    public UdpTunnelActor(UdpTunnelProbe probe, AgentStatus status, TimeSpan interval)
    {
        _probe = probe;
        _status = status;
        Receive<Check>(_ => OnCheck());
        Receive<GetTunnelCounters>(_ => Sender.Tell(new TunnelCountersReply(_probe.Counters())));
        Timers.StartPeriodicTimer("check", Check.Instance, interval);
    }

    public static Props Props(UdpTunnelProbe probe, AgentStatus status, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new UdpTunnelActor(probe, status, interval));

    private void OnCheck()
    {
        if (_probe.Failure() is { } failure)
        {
            _log.Error(failure, "udp tunnel worker failed");
            _status.Fail($"udp tunnel worker failed: {failure.Message}");
            Timers.CancelAll();
            return;
        }
        if (_probe.Counters() is { } counters && counters.TotalDrops > _lastDrops)
        {
            var grown = counters.TotalDrops - _lastDrops;
            _lastDrops = counters.TotalDrops;
            _log.Info("udp tunnel dropped {0} more packets ({1})", grown,
                string.Join(", ", counters.Drops.Where(d => d.Value > 0).Select(d => $"{d.Key} {d.Value}")));
        }
    }

    private sealed record Check
    {
        public static readonly Check Instance = new();
    }
}
