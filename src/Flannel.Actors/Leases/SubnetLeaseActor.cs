using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.DistributedData;
using Akka.Event;
using Flannel.Actors.Observability;

namespace Flannel.Actors.Leases;

/// <summary>
/// One per node: acquires and renews this node's subnet lease through the cluster-singleton allocator, mirrors the
/// replicated lease table (DistributedData Changed subscription) together with the own lease to subscribers as one
/// <see cref="LeaseSnapshot"/> per change, and watches the own lease: when another node holds it (lost race) or it
/// disappeared (released, expired), it re-acquires, logs why, and tells the subscribers that asked with
/// <see cref="OwnLeaseChanged"/> (or <see cref="OwnLeaseLost"/>).
/// Protocol: SubnetLeaseActor.Messages.cs.
/// </summary>
public sealed class SubnetLeaseActor : ReceiveActor, IWithTimers
{
    private sealed record ClaimTimeout(long RequestId);
    private sealed record ReleaseTimeout(long RequestId);
    private sealed record Renew
    {
        public static readonly Renew Instance = new();
    }
    private sealed record Retry
    {
        public static readonly Retry Instance = new();
    }

    /// <summary>One outstanding claim and who waits for its answer.</summary>
    private sealed record InFlight(long Id, List<IActorRef> AcquireWaiters, List<IActorRef> BackendWaiters, string Reason)
    {
        /// <summary>For the renew latency metric.</summary>
        public long Started { get; } = Stopwatch.GetTimestamp();
    }

    private readonly LeaseOptions _options;
    private readonly LeaseAllocatorExtension _ext;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Microsoft.Extensions.Logging.ILogger _events = Context.System.FlannelLogger("Flannel.Leases");
    /// <summary>Subscriber -> whether it wants <see cref="OwnLeaseChanged"/> / <see cref="OwnLeaseLost"/> too.</summary>
    private readonly Dictionary<IActorRef, bool> _subscribers = [];
    private readonly Dictionary<long, (IActorRef ReplyTo, IPNetwork Subnet)> _releases = [];

    private string _backendType;
    private string? _backendData;
    private ImmutableDictionary<IPNetwork, Lease> _table = ImmutableDictionary<IPNetwork, Lease>.Empty;
    private Lease? _own;
    private bool _ownSeen;
    private string? _ownLostReason;
    private List<IActorRef> _acquireWaiters = [];
    private List<IActorRef> _backendWaiters = [];
    private InFlight? _inFlight;
    private string? _claimAgain;
    private long _nextId;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(LeaseOptions options) => Akka.Actor.Props.Create(() => new SubnetLeaseActor(options));

    public SubnetLeaseActor(LeaseOptions options)
    {
        _options = options;
        _backendType = options.BackendType;
        _backendData = options.BackendData;
        _ext = LeaseAllocatorExtension.Get(Context.System);
        if (options.LastKnownTable.Count > 0)
            _table = options.LastKnownTable.Aggregate(ImmutableDictionary<IPNetwork, Lease>.Empty, (t, l) => t.SetItem(l.Subnet, l));

        Receive<AcquireLease>(_ => OnAcquire());
        Receive<UpdateBackend>(OnUpdateBackend);
        Receive<ReleaseLease>(OnRelease);
        Receive<SubscribeLeases>(m =>
        {
            if (_subscribers.TryAdd(m.Subscriber, m.OwnLeaseEvents)) Context.Watch(m.Subscriber);
            else _subscribers[m.Subscriber] = m.OwnLeaseEvents;
            m.Subscriber.Tell(Snapshot());
        });
        Receive<UnsubscribeLeases>(m =>
        {
            if (_subscribers.Remove(m.Subscriber)) Context.Unwatch(m.Subscriber);
        });
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
        Receive<GetLeases>(_ => Sender.Tell(Snapshot()));
        Receive<GetOwnLease>(_ => Sender.Tell(new OwnLease(_own)));

        Receive<ClaimGranted>(OnGranted);
        Receive<ClaimRefused>(OnRefused);
        Receive<ClaimTimeout>(t =>
        {
            if (_inFlight?.Id == t.RequestId)
                OnRefused(new ClaimRefused(t.RequestId, $"no answer from the lease allocator within {_options.RequestTimeout}", false));
        });
        Receive<Renew>(_ => RequestClaim("renewal"));
        Receive<Retry>(_ => RequestClaim(_claimAgain ?? "retry"));
        Receive<ReleaseDone>(m => FinishRelease(m.RequestId, r => r.Tell(new LeaseReleased(m.Subnet))));
        Receive<ReleaseRefused>(m => FinishRelease(m.RequestId, r => r.Tell(new LeaseReleaseFailed(m.Reason))));
        Receive<ReleaseTimeout>(m => FinishRelease(m.RequestId,
            r => r.Tell(new LeaseReleaseFailed($"no answer from the lease allocator within {_options.RequestTimeout}"))));

        Receive<Changed>(c =>
        {
            FlannelInstruments.DDataChanges.Add(1);
            OnTable(c.Get(_ext.Key).Entries);
        });
        Receive<GetSuccess>(g => OnTable(g.Get(_ext.Key).Entries));
        Receive<NotFound>(_ => { });
        Receive<GetFailure>(_ => { });
    }

    protected override void PreStart()
    {
        _ext.Replicator.Tell(Dsl.Subscribe(_ext.Key, Self));
        _ext.Replicator.Tell(Dsl.Get(_ext.Key, ReadLocal.Instance));
    }

    protected override void PostStop() => _ext.Replicator.Tell(Dsl.Unsubscribe(_ext.Key, Self));

    private void OnAcquire()
    {
        if (_own is not null && _ownLostReason is null && _inFlight is null)
        {
            Sender.Tell(new LeaseAcquired(_own));
            return;
        }
        _acquireWaiters.Add(Sender);
        RequestClaim(_own is null ? "acquire" : _ownLostReason ?? "acquire");
    }

    private void OnUpdateBackend(UpdateBackend m)
    {
        _backendType = m.BackendType;
        _backendData = m.BackendData;
        _backendWaiters.Add(Sender);
        RequestClaim("backend update");
    }

    private void RequestClaim(string reason)
    {
        if (_inFlight is not null)
        {
            _claimAgain ??= reason;
            return;
        }
        Timers.Cancel("retry");
        _claimAgain = null;
        var id = ++_nextId;
        _inFlight = new InFlight(id, _acquireWaiters, _backendWaiters, reason);
        _acquireWaiters = [];
        _backendWaiters = [];
        var claim = LeaseClaim.From(_options, _own?.Subnet, _backendType, _backendData);
        _ext.Proxy.Tell(new ClaimRequest(id, claim));
        Timers.StartSingleTimer("claim-timeout", new ClaimTimeout(id), _options.RequestTimeout);
    }

    private void OnGranted(ClaimGranted m)
    {
        if (_inFlight?.Id != m.RequestId) return;
        var flight = _inFlight;
        _inFlight = null;
        Timers.Cancel("claim-timeout");

        var old = _own;
        var lease = m.Lease;
        _own = lease;
        _ownSeen = _table.TryGetValue(lease.Subnet, out var cur) && cur.Node == lease.Node && cur.Version >= lease.Version;
        var lostReason = _ownLostReason;
        _ownLostReason = null;

        // One log line per event: the node agent logs "lease acquired" (1001) for the first and every new lease; a loss
        // found in the table was logged as "lease lost" (1003) when it was found.
        if (old is not null && (!old.Subnet.Equals(lease.Subnet) || lostReason is not null))
        {
            var reason = lostReason ?? $"{old.Subnet} no longer fits or is taken";
            if (lostReason is null) _events.LeaseLost(old.Subnet.ToString(), reason);
            PublishOwnEvent(new OwnLeaseChanged(old, lease, reason));
        }
        else if (old is not null)
        {
            _events.LeaseRenewed(lease.Subnet.ToString(), lease.Expiration);
            FlannelInstruments.LeaseRenewSeconds.Record(Stopwatch.GetElapsedTime(flight.Started).TotalSeconds,
                new KeyValuePair<string, object?>("result", "ok"));
        }

        if (!lease.Equals(old)) PublishSnapshot();
        foreach (var w in flight.AcquireWaiters) w.Tell(new LeaseAcquired(lease));
        var backendCurrent = lease.BackendType == _backendType && lease.BackendData == _backendData;
        foreach (var w in flight.BackendWaiters)
        {
            if (backendCurrent) w.Tell(new BackendUpdated(lease));
            else _backendWaiters.Add(w); // a newer UpdateBackend is queued; answer with that one
        }

        ScheduleRenewal(lease);
        if (_claimAgain is { } again) RequestClaim(again);
    }

    private void OnRefused(ClaimRefused m)
    {
        if (_inFlight?.Id != m.RequestId) return;
        var flight = _inFlight;
        _inFlight = null;
        Timers.Cancel("claim-timeout");

        if (!m.Permanent)
        {
            // Keep the waiters for the retry: transient failures (no majority, allocator moving) are retried forever.
            _log.Warning("Lease claim ({Reason}) failed, retrying in {Interval}: {Error}", flight.Reason, _options.RetryInterval, m.Reason);
            _acquireWaiters.InsertRange(0, flight.AcquireWaiters);
            _backendWaiters.InsertRange(0, flight.BackendWaiters);
            _claimAgain ??= flight.Reason;
            Timers.StartSingleTimer("retry", Retry.Instance, _options.RetryInterval);
            return;
        }

        _log.Error("Lease claim ({Reason}) refused: {Error}", flight.Reason, m.Reason);
        foreach (var w in flight.AcquireWaiters) w.Tell(new LeaseAcquireFailed(m.Reason));
        foreach (var w in flight.BackendWaiters) w.Tell(new BackendUpdateFailed(m.Reason));
        if (_ownLostReason is not null && _own is not null)
            PublishOwnEvent(new OwnLeaseLost(_own, $"{_ownLostReason}; no new lease: {m.Reason}"));
        else if (_own is not null)
        {
            // A renewal was refused permanently (e.g. the config shrank): the lease stays valid until it expires.
            ScheduleRenewal(_own);
        }
        if (_claimAgain is { } again && _claimAgain != flight.Reason) RequestClaim(again);
        else _claimAgain = null;
    }

    private void ScheduleRenewal(Lease lease)
    {
        var margin = _options.RenewMargin < _options.Ttl ? _options.RenewMargin : _options.Ttl / 2;
        var due = lease.Expiration - margin - DateTimeOffset.UtcNow;
        if (due < _options.RetryInterval) due = _options.RetryInterval;
        Timers.StartSingleTimer("renew", Renew.Instance, due);
    }

    private void OnRelease(ReleaseLease m)
    {
        var id = ++_nextId;
        _releases[id] = (Sender, m.Subnet);
        // The allocator binds the request to this actor's member address (the sender); the node name and the channel
        // only name the origin in its log.
        var via = m.Kind switch { ReleaseKind.Operator => "ctl", ReleaseKind.NodeDeleted => "kube", _ => "agent" };
        _ext.Proxy.Tell(new ReleaseRequest(id, m.Subnet, m.Kind, m.Force, _options.NodeName, via));
        Timers.StartSingleTimer("release-" + id, new ReleaseTimeout(id), _options.RequestTimeout);
    }

    private void FinishRelease(long id, Action<IActorRef> reply)
    {
        if (!_releases.Remove(id, out var r)) return;
        Timers.Cancel("release-" + id);
        reply(r.ReplyTo);
    }

    /// <summary>Keys of the duplicate entries already logged, so each is logged once while it stays in the map.</summary>
    private HashSet<string> _duplicatesLogged = [];

    /// <summary>
    /// Mirrors the replicated map. It can hold anything any member wrote: several entries for one subnet (different
    /// keys), absurd versions, a huge number of entries; <see cref="LeasePrecedence"/> keeps one per subnet and this
    /// never throws, so a bad table cannot put the actor into a restart loop.
    /// </summary>
    private void OnTable(IImmutableDictionary<string, Lease> entries)
    {
        var view = LeasePrecedence.Build(entries);
        ReportDuplicates(view.Duplicates);
        var table = view.Table;
        var changed = table.Count != _table.Count
                      || table.Any(e => !_table.TryGetValue(e.Key, out var before) || !before.Equals(e.Value));
        _table = table;
        if (changed) PublishSnapshot();
        CheckOwnLease();
    }

    private void ReportDuplicates(IReadOnlyList<DuplicateLease> duplicates)
    {
        if (duplicates.Count == 0 && _duplicatesLogged.Count == 0) return;
        var now = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in duplicates)
        {
            now.Add(d.Key);
            if (_duplicatesLogged.Contains(d.Key)) continue;
            _events.LeaseEntryRejected(d.Lease.Subnet.ToString(), d.Lease.Node, d.Lease.PublicIp?.ToString() ?? "-", "duplicate_subnet",
                $"key '{d.Key}' v{d.Lease.Version}; kept v{d.Winner.Version} of node {d.Winner.Node}");
            FlannelInstruments.LeaseEntriesRejected.Add(1, new KeyValuePair<string, object?>("reason", "duplicate_subnet"));
        }
        _duplicatesLogged = now;
    }

    /// <summary>
    /// The lost-race rule. The local replica may lag behind the allocator's majority write, so until the replica has
    /// shown our entry once (<see cref="_ownSeen"/>), an older entry of the previous owner (lower version) is not a
    /// loss. Afterwards any other owner of our subnet, or its disappearance, is.
    /// </summary>
    private void CheckOwnLease()
    {
        if (_own is not { } own || _ownLostReason is not null) return;
        if (_table.TryGetValue(own.Subnet, out var cur))
        {
            if (cur.Node == own.Node)
            {
                if (cur.Version >= own.Version) _ownSeen = true;
                // Only this node's own claims change what its entry advertises. A newer entry that advertises something
                // else while no claim of ours is in flight was written by someone else (a member forging our address,
                // a direct write to the map): traffic for our subnet would go where it says, so put ours back at once.
                if (cur.Version > own.Version && _inFlight is null && !SameAdvertisement(cur, own))
                {
                    _events.OwnLeaseRewritten(own.Subnet.ToString(), cur.Version, cur.PublicIp?.ToString() ?? "-", cur.BackendType ?? "-",
                        cur.Owner ?? "-");
                    RequestClaim($"restore: own lease {own.Subnet} rewritten by someone else (v{cur.Version})");
                }
                return;
            }
            if (!_ownSeen && cur.Version < own.Version) return;
            LoseOwnLease($"lost {own.Subnet} to node {cur.Node} (public IP {cur.PublicIp}, v{cur.Version})");
        }
        else if (_ownSeen)
        {
            LoseOwnLease(own.IsExpired(DateTimeOffset.UtcNow) ? $"lease {own.Subnet} expired" : $"lease {own.Subnet} was released");
        }
    }

    private static bool SameAdvertisement(Lease a, Lease b) =>
        Equals(a.PublicIp, b.PublicIp) && a.BackendType == b.BackendType && a.BackendData == b.BackendData
        && (a.Owner is null || b.Owner is null || a.Owner == b.Owner);

    private void LoseOwnLease(string reason)
    {
        _events.LeaseLost(_own!.Subnet.ToString(), $"{reason}; acquiring a new lease");
        _ownLostReason = reason;
        _ownSeen = false;
        Timers.Cancel("renew");
        RequestClaim(reason);
    }

    private LeaseSnapshot Snapshot() => new(_table, _own);

    private void PublishSnapshot()
    {
        var snapshot = Snapshot();
        foreach (var s in _subscribers.Keys) s.Tell(snapshot);
    }

    private void PublishOwnEvent(object message)
    {
        foreach (var (s, wantsOwnEvents) in _subscribers)
            if (wantsOwnEvents) s.Tell(message);
    }
}
