using Akka.Actor;
using Akka.Event;
using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Flannel.Actors.Observability;
using Flannel.Net.Backends;
using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Routes;

/// <summary>
/// Keeps the kernel's peer routes equal to the replicated lease table: subscribes to the leases, computes the desired
/// peer set (<see cref="DesiredPeers"/>) from each <see cref="LeaseSnapshot"/> (the table and this node's lease) and runs <see cref="IBackend.Reconcile"/> when the set changes, when the kernel
/// reports a change (debounced) and every <see cref="RouteProgrammerSettings.Period"/>. Backend calls run on the thread
/// pool, one at a time; requests arriving meanwhile fold into one follow-up pass. No packet ever passes through here.
/// </summary>
public sealed class RouteProgrammerActor : ReceiveActor, IWithTimers
{
    private const string PeriodicTimer = "periodic";
    private const string DebounceTimer = "debounce";

    private readonly IActorRef _leases;
    private readonly IBackend _backend;
    private readonly RouteProgrammerSettings _settings;
    private readonly System.Net.IPNetwork _network;
    private readonly AgentStatus _status;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Microsoft.Extensions.Logging.ILogger _events;
    private readonly List<IActorRef> _waiting = [];
    private readonly Queue<IActorRef> _inspectors = new();

    private IReadOnlyList<PeerLease> _desired = [];
    private IReadOnlyList<RejectedPeer> _rejected = [];
    /// <summary>"subnet reason" of the refusals already logged: each is logged once while it persists.</summary>
    private HashSet<string> _rejectionsLogged = [];
    private IReadOnlyList<PeerLease>? _lastReconciled;
    private bool _running;
    private bool _seenSnapshot;
    private string? _pendingTrigger;
    private IDisposable? _kernelWatch;

    public ITimerScheduler Timers { get; set; } = null!;

    public RouteProgrammerActor(IActorRef leases, IBackend backend, RouteProgrammerSettings settings, AgentStatus status)
    {
        _leases = leases;
        _backend = backend;
        _settings = settings;
        _status = status;
        _network = settings.Network ?? throw new ArgumentException("RouteProgrammerSettings.Network is required", nameof(settings));
        _events = Context.System.FlannelLogger("Flannel.Routes");

        // A moved own subnet comes as a snapshot too: peers overlapping the new one go, the ones over the old one come back.
        Receive<LeaseSnapshot>(OnSnapshot);
        Receive<KernelChanged>(_ =>
        {
            if (!Timers.IsTimerActive(DebounceTimer)) Timers.StartSingleTimer(DebounceTimer, new Trigger("kernel change"), _settings.Debounce);
        });
        Receive<Trigger>(t => Request(t.Reason));
        Receive<ReconcileNow>(_ =>
        {
            _waiting.Add(Sender);
            Request("requested");
        });
        Receive<PassDone>(OnPassDone);
        Receive<GetDesiredPeers>(_ => Sender.Tell(new DesiredPeerSet(_desired)));
        Receive<GetRouteStatus>(_ =>
        {
            _inspectors.Enqueue(Sender);
            if (!_running) StartNext();
        });
        Receive<InspectDone>(d =>
        {
            _running = false;
            d.ReplyTo.Tell(d.Result);
            StartNext();
        });
    }

    public static Props Props(IActorRef leases, IBackend backend, RouteProgrammerSettings settings, AgentStatus status) =>
        Akka.Actor.Props.Create(() => new RouteProgrammerActor(leases, backend, settings, status));

    protected override void PreStart()
    {
        // Watch the kernel before asking for the leases, so no change between the two goes unseen.
        if (_settings.WatchKernel is { } watch)
        {
            var self = Self;
            _kernelWatch = watch(() => self.Tell(KernelChanged.Instance));
        }
        Timers.StartPeriodicTimer(PeriodicTimer, new Trigger("periodic"), _settings.Period);
        _leases.Tell(new SubscribeLeases(Self));
    }

    protected override void PostStop()
    {
        _kernelWatch?.Dispose();
        _leases.Tell(new UnsubscribeLeases(Self));
    }

    private void OnSnapshot(LeaseSnapshot snapshot)
    {
        var own = snapshot.Own;
        var self = new LocalNode(_settings.NodeName, _network, own?.Subnet, own?.PublicIp);
        var selection = DesiredPeers.Compute(snapshot.Leases.Values, self, DateTimeOffset.UtcNow);
        var desired = selection.Accepted;
        ReportRejections(selection.Rejected);
        var leases = snapshot.Leases.Values.OrderBy(l => l.Subnet.ToString(), StringComparer.Ordinal).ToList();
        var diff = DesiredPeers.Diff(_desired, desired);
        _status.Update(s => s with
        {
            Leases = leases,
            PeersDesired = desired.Count,
            PeersInSync = s.PeersInSync && diff.IsEmpty,
            RejectedLeases = selection.Rejected,
        });
        if (diff.IsEmpty && _seenSnapshot) return;
        _seenSnapshot = true;
        foreach (var p in diff.Added) _events.PeerAdded(p.Subnet.ToString(), p.PublicIp.ToString(), p.BackendType);
        foreach (var p in diff.Removed) _events.PeerRemoved(p.Subnet.ToString(), p.PublicIp.ToString());
        foreach (var p in diff.Changed) _log.Info("peer changed: {0} via {1} ({2})", p.Subnet, p.PublicIp, p.BackendType);
        _desired = desired;
        Request("leases");
    }

    /// <summary>Logs and counts each refused entry once per (subnet, reason), not on every recomputation.</summary>
    private void ReportRejections(IReadOnlyList<RejectedPeer> rejected)
    {
        _rejected = rejected;
        if (rejected.Count == 0 && _rejectionsLogged.Count == 0) return;
        var now = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in rejected)
        {
            var label = PeerFilter.Label(r.Reason);
            var key = $"{r.Peer.Subnet} {label}";
            if (!now.Add(key) || _rejectionsLogged.Contains(key)) continue;
            _events.LeaseEntryRejected(r.Peer.Subnet.ToString(), r.Node ?? "-", r.Peer.PublicIp.ToString(), label,
                $"backend {r.Peer.BackendType}; not programmed");
            FlannelInstruments.LeaseEntriesRejected.Add(1, new KeyValuePair<string, object?>("reason", label));
        }
        _rejectionsLogged = now;
    }

    private void Request(string trigger)
    {
        // Before the first lease table arrives the desired set is unknown: reconciling "no peers" would delete routes
        // a restarted agent is about to keep.
        if (!_seenSnapshot) return;
        _pendingTrigger = _pendingTrigger == "leases" ? "leases" : trigger;
        if (!_running) StartNext();
    }

    private void StartNext()
    {
        if (_running) return;
        if (_pendingTrigger is { } trigger)
        {
            _pendingTrigger = null;
            _running = true;
            var peers = _desired;
            var backend = _backend;
            Task.Run(() => backend.Reconcile(peers)).ContinueWith(
                t => t.IsCompletedSuccessfully
                    ? new PassDone(peers, t.Result, null, trigger)
                    : new PassDone(peers, null, t.Exception?.GetBaseException() ?? new TaskCanceledException(), trigger),
                TaskScheduler.Default).PipeTo(Self);
            return;
        }
        if (_inspectors.Count > 0)
        {
            _running = true;
            var replyTo = _inspectors.Dequeue();
            var peers = _desired;
            var backend = _backend;
            // Refused lease entries are listed too (ctl routes shows them as not programmed, with the reason); one row per
            // subnet, as readers key the rows by subnet (a refused duplicate of a programmed subnet is left out).
            var programmed = peers.Select(p => p.Subnet).ToHashSet();
            var refused = _rejected.Where(r => programmed.Add(r.Peer.Subnet))
                .Select(r => new PeerRouteStatus(r.Peer.Subnet, r.Peer.PublicIp, r.Peer.BackendType,
                    PeerRouteState.Ignored, $"refused: {PeerFilter.Label(r.Reason)}", null, [])).ToList();
            Task.Run(() => (object)new RouteStatus(backend.Type, [.. backend.Inspect(peers), .. refused])).ContinueWith(
                t => new InspectDone(replyTo, t.IsCompletedSuccessfully ? t.Result : new Status.Failure(t.Exception?.GetBaseException())),
                TaskScheduler.Default).PipeTo(Self);
        }
    }

    private void OnPassDone(PassDone done)
    {
        _running = false;
        var report = done.Report ?? new ReconcileReport(0, 0, 0, [], [$"reconcile failed: {done.Error?.Message}"]);
        if (done.Error is not null) _log.Error(done.Error, "reconcile failed ({0})", done.Trigger);
        foreach (var e in report.Errors) _log.Warning("reconcile: {0}", e);
        // Drift: the kernel needed changes for a peer set that had already been programmed successfully.
        var drift = report.Repairs > 0 && _lastReconciled is not null && _lastReconciled.SequenceEqual(done.Peers);
        if (drift)
            foreach (var change in report.Changes) _events.DriftRepaired(change.Kind, change.Subnet?.ToString() ?? "-", change.Text);
        else
            foreach (var change in report.Changes) _log.Info("programmed: {0}", change.Text);

        var backend = new KeyValuePair<string, object?>("backend", _backend.Type);
        FlannelInstruments.ReconcileRuns.Add(1, backend);
        foreach (var kind in report.Changes.GroupBy(c => c.Kind))
            FlannelInstruments.ReconcileRepairs.Add(kind.Count(), backend, new KeyValuePair<string, object?>("kind", kind.Key));

        var current = ReferenceEquals(done.Peers, _desired);
        var ok = report.Errors.Count == 0;
        if (ok) _lastReconciled = done.Peers;
        _status.Update(s => s with
        {
            ReconcileRuns = s.ReconcileRuns + 1,
            Repairs = s.Repairs + report.Repairs,
            DriftRepairs = s.DriftRepairs + (drift ? report.Repairs : 0),
            LastReconcile = DateTimeOffset.UtcNow,
            LastErrors = report.Errors,
            PeersProgrammed = ok ? done.Peers.Count : s.PeersProgrammed,
            PeersInSync = current && ok,
        });

        var completed = new ReconcileCompleted(done.Peers, report, done.Trigger);
        foreach (var w in _waiting) w.Tell(completed);
        _waiting.Clear();
        Context.System.EventStream.Publish(completed);
        // A failed pass is retried at the next period or notification; a newer desired set is programmed at once.
        if (!current) _pendingTrigger ??= "leases";
        StartNext();
    }

    private sealed record Trigger(string Reason);

    private sealed record PassDone(IReadOnlyList<PeerLease> Peers, ReconcileReport? Report, Exception? Error, string Trigger);

    private sealed record InspectDone(IActorRef ReplyTo, object Result);
}
