using Akka.Actor;
using Akka.Event;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Flannel.Actors.Observability;
using Flannel.Net.Backends;
using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Routes;

/// <summary>
/// Keeps the kernel's peer routes equal to the replicated lease table: subscribes to the leases, computes the desired
/// peer set (<see cref="DesiredPeers"/>; in Kubernetes mode merged with Nodes outside the cluster by
/// <see cref="ForeignPeers"/>) from each <see cref="LeaseSnapshot"/> (the table and this node's lease) and runs
/// <see cref="IBackend.Reconcile"/> when the set changes, when the kernel
/// reports a change (debounced) and every <see cref="RouteProgrammerSettings.Period"/>. Backend calls run on the thread
/// pool, one at a time; requests arriving meanwhile fold into one follow-up pass. No packet ever passes through here.
/// </summary>
public sealed class RouteProgrammerActor : ReceiveActor, IWithTimers
{
    private const string PeriodicTimer = "periodic";
    private const string DebounceTimer = "debounce";
    private const string ForeignWaitTimer = "foreign-wait";

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
    private IReadOnlySet<string> _foreignNodes = new HashSet<string>();
    private IReadOnlyDictionary<System.Net.IPNetwork, string> _foreign = new Dictionary<System.Net.IPNetwork, string>();
    private ForeignNodeView _foreignView = ForeignNodeView.Empty;
    /// <summary>Without a foreign-node source there is nothing to wait for; with one, the first pass waits for its view
    /// (a pass before it would delete the routes of Nodes outside the cluster that a restarted agent is about to keep), but
    /// not for ever: without the API (a control-plane restart while it is down) member leases must still be programmed.</summary>
    private bool _seenForeign;
    /// <summary>A Node view came from the foreign-node source (not the wait's end): before the lease only such a view may be
    /// programmed (<see cref="RouteProgrammerSettings.SelfBeforeLease"/>), never an empty table that would withdraw peers.</summary>
    private bool _viewArrived;
    /// <summary>"subnet reason" of the refusals already logged: each is logged once while it persists.</summary>
    private HashSet<string> _rejectionsLogged = [];
    /// <summary>The last lease snapshot, recomputed against when the foreign-node view changes.</summary>
    private LeaseSnapshot? _snapshot;
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
        _seenForeign = settings.ForeignNodes is null;

        // A moved own subnet comes as a snapshot too: peers overlapping the new one go, the ones over the old one come back.
        Receive<LeaseSnapshot>(OnSnapshot);
        Receive<ForeignWaitOver>(_ =>
        {
            if (_seenForeign) return;
            _log.Warning("no Node list after {0}: programming the lease table alone until it comes", _settings.ForeignViewWait);
            _seenForeign = true;
            if (_snapshot is { } last) OnSnapshot(last, force: true);
        });
        Receive<ForeignNodesChanged>(m =>
        {
            Timers.Cancel(ForeignWaitTimer);
            _foreignView = m.View;
            _viewArrived = true;
            var first = !_seenForeign;
            _seenForeign = true;
            if (_snapshot is { } last) OnSnapshot(last, force: first);
        });
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
        if (_settings.ForeignNodes is { } foreign)
        {
            foreign.Tell(new SubscribeForeignNodes(Self));
            Timers.StartSingleTimer(ForeignWaitTimer, ForeignWaitOver.Instance, _settings.ForeignViewWait);
        }
    }

    protected override void PostStop()
    {
        _kernelWatch?.Dispose();
        _leases.Tell(new UnsubscribeLeases(Self));
    }

    private void OnSnapshot(LeaseSnapshot snapshot) => OnSnapshot(snapshot, force: false);

    private void OnSnapshot(LeaseSnapshot snapshot, bool force)
    {
        _snapshot = snapshot;
        var own = snapshot.Own;
        var before = own is null ? _settings.SelfBeforeLease : null;
        var self = new LocalNode(_settings.NodeName, _network, own?.Subnet ?? before?.Subnet, own?.PublicIp ?? before?.PublicIp);
        var merged = ForeignPeers.Merge(snapshot.Leases.Values, _foreignView, self, _backend.Type, DateTimeOffset.UtcNow);
        var selection = merged.Selection;
        var desired = selection.Accepted;
        _foreignNodes = merged.ForeignNodes;
        ReportRejections(selection.Rejected);
        var foreignPeers = desired.Where(p => merged.Foreign.ContainsKey(p.Subnet)).Select(p => new ForeignPeer(merged.Foreign[p.Subnet], p)).ToList();
        foreach (var p in foreignPeers.Where(p => !_foreign.ContainsKey(p.Peer.Subnet)))
            _events.ForeignPeerAccepted(p.Peer.Subnet.ToString(), p.Node, p.Peer.PublicIp.ToString(), p.Peer.BackendType);
        foreach (var (subnet, node) in _foreign.Where(kv => !merged.Foreign.ContainsKey(kv.Key)))
            _events.ForeignPeerWithdrawn(subnet.ToString(), node,
                desired.Any(p => p.Subnet.Equals(subnet)) ? "now a member's lease"
                : selection.Rejected.Any(r => r.Node == node) ? "its annotations are refused"
                : "node or annotations gone");
        _foreign = merged.Foreign;
        var leases = snapshot.Leases.Values.OrderBy(l => l.Subnet.ToString(), StringComparer.Ordinal).ToList();
        var diff = DesiredPeers.Diff(_desired, desired);
        _status.Update(s => s with
        {
            Leases = leases,
            PeersDesired = desired.Count,
            PeersInSync = s.PeersInSync && diff.IsEmpty,
            RejectedLeases = selection.Rejected,
            ForeignPeers = foreignPeers,
        });
        if (diff.IsEmpty && _seenSnapshot && !force) return;
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
            if (r.Node is { } n && _foreignNodes.Contains(n))
                _events.ForeignPeerRejected(r.Peer.Subnet.ToString(), n, r.Peer.PublicIp.ToString(), label, MergedPeers.KubeSource);
            else
                _events.LeaseEntryRejected(r.Peer.Subnet.ToString(), r.Node ?? "-", r.Peer.PublicIp.ToString(), label,
                    $"backend {r.Peer.BackendType}; not programmed");
            FlannelInstruments.LeaseEntriesRejected.Add(1, new KeyValuePair<string, object?>("reason", label),
                new KeyValuePair<string, object?>("source", r.Node is { } m && _foreignNodes.Contains(m) ? "kube" : "lease"));
        }
        _rejectionsLogged = now;
    }

    private void Request(string trigger)
    {
        // Before the first lease table arrives the desired set is unknown: reconciling "no peers" would delete routes
        // a restarted agent is about to keep.
        if (!_seenSnapshot || !_seenForeign) return;
        // Started before the lease: the peers come from the Nodes' annotations, so wait for them however long the API takes.
        if (_snapshot?.Own is null && _settings.SelfBeforeLease is not null && !_viewArrived) return;
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
            var foreign = _foreign;
            Task.Run(() => (object)new RouteStatus(backend.Type, [.. backend.Inspect(peers), .. refused], foreign)).ContinueWith(
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

    private sealed record ForeignWaitOver
    {
        public static readonly ForeignWaitOver Instance = new();
    }

    private sealed record PassDone(IReadOnlyList<PeerLease> Peers, ReconcileReport? Report, Exception? Error, string Trigger);

    private sealed record InspectDone(IActorRef ReplyTo, object Result);
}
