using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Flannel.Actors.Cmd;
using Flannel.Actors.Kubernetes;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Metrics;

/// <summary>
/// Fills the state gauges and the tunnel counters right before each scrape, from the same sources the ctl palettes
/// read (<see cref="CmdContext"/>), the cluster state, the DistributedData replicator and, in Kubernetes mode, the node
/// watcher's progress (<see cref="NodeWatchProgress"/>). Nothing is counted per
/// packet: the tunnel's own counters are copied (counters only move forward; a restarted tunnel starts from its
/// old totals again before moving).
/// </summary>
public sealed class AgentScraper
{
    private static readonly string[] Statuses =
        ["Joining", "WeaklyUp", "Up", "Leaving", "Exiting", "Down", "Removed"];

    private readonly FlannelMetrics _metrics;
    // Swapped by Retarget when the agent starts a new actor system (rejoin).
    private ActorSystem TargetSystem => Volatile.Read(ref _target).System;
    private CmdContext TargetCtx => Volatile.Read(ref _target).Ctx;
    private Target _target;
    private readonly ILogger _logger;
    private readonly Func<DateTimeOffset> _now;

    private AgentScraper(FlannelMetrics metrics, ActorSystem system, CmdContext ctx, ILogger logger, Func<DateTimeOffset> now)
    {
        _metrics = metrics;
        _target = new Target(system, ctx);
        _logger = logger;
        _now = now;
    }

    /// <summary>Reads the agent on every scrape of <paramref name="metrics"/>' registry.</summary>
    public static AgentScraper Attach(FlannelMetrics metrics, ActorSystem system, CmdContext ctx, ILogger? logger = null,
        Func<DateTimeOffset>? now = null)
    {
        var scraper = new AgentScraper(metrics, system, ctx,
            logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, now ?? (() => DateTimeOffset.UtcNow));
        metrics.Registry.AddBeforeCollectCallback(scraper.CollectAsync);
        return scraper;
    }

    /// <summary>Reads another actor system from the next scrape on (the agent's new incarnation after a rejoin).</summary>
    public void Retarget(ActorSystem system, CmdContext ctx) => Volatile.Write(ref _target, new Target(system, ctx));

    private sealed record Target(ActorSystem System, CmdContext Ctx);

    public async Task CollectAsync(CancellationToken ct)
    {
        await Source("cluster", _ => { Cluster(); return Task.CompletedTask; }, ct);
        await Source("leases", Leases, ct);
        await Source("routes", Routes, ct);
        await Source("peers", Peers, ct);
        await Source("ddata", DData, ct);
        await Source("kube", _ => { Kube(); return Task.CompletedTask; }, ct);
    }

    private async Task Source(string name, Func<CancellationToken, Task> read, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TargetCtx.SourceTimeout);
        try
        {
            await read(timeout.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !ct.IsCancellationRequested)
        {
            // One slow or failing source must not cost the whole scrape; it is counted and logged instead.
            _metrics.ScrapeErrors.WithLabels(name).Inc();
            _logger.LogDebug(e, "metrics source {Source} failed: {Reason}", name, e.Message);
        }
    }

    private void Cluster()
    {
        var cluster = Akka.Cluster.Cluster.Get(TargetSystem);
        var state = cluster.State;
        foreach (var status in Statuses)
            _metrics.ClusterMembers.WithLabels(status).Set(state.Members.Count(m => m.Status.ToString() == status));
        _metrics.ClusterUnreachable.Set(state.Unreachable.Count);
        _metrics.ClusterIsLeader.Set(cluster.SelfAddress.Equals(state.Leader) ? 1 : 0);
    }

    private async Task Leases(CancellationToken ct)
    {
        if (TargetCtx.Leases is null) return;
        var leases = await TargetCtx.Leases.ListAsync(ct);
        var now = _now();
        _metrics.LeasesKnown.Set(leases.Count(l => l.Expiration > now));
        _metrics.LeasesExpired.Set(leases.Count(l => l.Expiration <= now));
        _metrics.LeasesHeld.Set(leases.Count(l => l.Expiration > now && l.Node == TargetCtx.NodeName));
    }

    private async Task Routes(CancellationToken ct)
    {
        if (TargetCtx.Routes is null) return;
        var view = await TargetCtx.Routes(ct);
        var wanted = view.Routes.Where(r => r.State != RouteRow.Ignored).ToList();
        _metrics.PeersKnown.Set(wanted.Count);
        _metrics.PeersProgrammed.Set(wanted.Count(r => r.State == RouteRow.InSync));
        _metrics.PeersDrifted.Set(wanted.Count(r => r.State == RouteRow.Drifted));
    }

    private async Task Peers(CancellationToken ct)
    {
        if (TargetCtx.Peers is null) return;
        var view = await TargetCtx.Peers(ct);
        if (view.Tunnel is { } t)
        {
            _metrics.TunnelPackets.WithLabels("tx").IncTo(t.TxPackets);
            _metrics.TunnelBytes.WithLabels("tx").IncTo(t.TxBytes);
            _metrics.TunnelPackets.WithLabels("rx").IncTo(t.RxPackets);
            _metrics.TunnelBytes.WithLabels("rx").IncTo(t.RxBytes);
            var c = t.Coalescing;
            _metrics.TunnelCoalescedWrites.WithLabels("tcp").IncTo(c.TcpSuperPackets);
            _metrics.TunnelCoalescedPackets.WithLabels("tcp").IncTo(c.TcpSegments);
            _metrics.TunnelCoalescedWrites.WithLabels("udp").IncTo(c.UdpSuperPackets);
            _metrics.TunnelCoalescedPackets.WithLabels("udp").IncTo(c.UdpSegments);
            _metrics.TunnelGsoRefused.IncTo(c.UdpGsoRefused);
            if (t.Bpf is { } b)
            {
                _metrics.BpfPackets.WithLabels("tx").IncTo(b.TxPackets);
                _metrics.BpfBytes.WithLabels("tx").IncTo(b.TxBytes);
                _metrics.BpfPackets.WithLabels("rx").IncTo(b.RxPackets);
                _metrics.BpfBytes.WithLabels("rx").IncTo(b.RxBytes);
            }
        }
        foreach (var group in view.Drops.Concat(view.Peers.SelectMany(p => p.Drops)).GroupBy(d => (d.Direction, d.Reason)))
            _metrics.TunnelDrops.WithLabels(group.Key.Direction, group.Key.Reason).IncTo(group.Sum(d => d.Count));
    }

    private void Kube()
    {
        if (NodeWatchProgress.Get(TargetSystem).Current is not { } p) return;
        _metrics.KubeNodes.Set(p.Nodes);
        _metrics.KubeNodeEvents.WithLabels("added").IncTo(p.Added);
        _metrics.KubeNodeEvents.WithLabels("updated").IncTo(p.Updated);
        _metrics.KubeNodeEvents.WithLabels("unchanged").IncTo(p.Unchanged);
        _metrics.KubeNodeEvents.WithLabels("deleted").IncTo(p.Deleted);
        _metrics.KubeNodeLists.IncTo(p.Lists);
        if (p.LastListAt is { } listed) _metrics.KubeNodeListTime.Set(listed.ToUnixTimeMilliseconds() / 1000.0);
        if (p.LastListTook is { } took) _metrics.KubeNodeListDuration.Set(took.TotalSeconds);
        if (p.ResourceVersion > 0) _metrics.KubeNodesResourceVersion.Set(p.ResourceVersion);
    }

    private async Task DData(CancellationToken ct)
    {
        var replicator = DistributedData.Get(TargetSystem).Replicator;
        var count = await replicator.Ask<ReplicaCount>(GetReplicaCount.Instance, TargetCtx.SourceTimeout, ct);
        _metrics.DDataReplicas.Set(count.N);
    }
}
