using System.Collections.Immutable;
using System.Net;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using Flannel.Actors.Observability;

namespace Flannel.Actors.Leases;

/// <summary>
/// The single writer of the lease table (runs as a cluster singleton). Requests that arrive while a round is busy
/// are batched into the next round: one ReadMajority, the requests judged one after the other against the working
/// table (<see cref="ClaimAuthorizer"/> / <see cref="ReleaseAuthorizer"/>, so a batch never hands out a subnet twice),
/// one WriteMajority, then the replies.
/// Why this is partition-safe: a claim is granted only after a majority confirmed both the read and the write, and
/// a minority cannot form a majority, so it refuses (the node retries). Because every write goes through here,
/// LWW merges never have to arbitrate between concurrent claims; SubnetLeaseActor still watches for losing a subnet
/// as a safety net.
/// Who asks is the sender's member address (a local sender: this node's), never what the request says; requests
/// without a sender are dropped. Queued requests are capped per sender and in total, so one member cannot flood it.
/// </summary>
internal sealed class LeaseAllocatorActor : ReceiveActor, IWithTimers
{
    private abstract record Op;
    private sealed record ClaimOp(ClaimRequest Request, IActorRef ReplyTo, string From) : Op;
    private sealed record ReleaseOp(ReleaseRequest Request, IActorRef ReplyTo, string From) : Op;
    private sealed record GcOp : Op;
    private sealed record GcTick
    {
        public static readonly GcTick Instance = new();
    }

    private readonly LeaseAllocatorSettings _settings;
    private readonly LeaseAllocatorSetup _setup;
    private readonly IActorRef _replicator;
    private readonly LWWDictionaryKey<string, Lease> _key;
    private readonly ClaimAuthorizer _authorizer;
    private readonly Cluster _cluster;
    private readonly UniqueAddress _self;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Microsoft.Extensions.Logging.ILogger _events = Context.System.FlannelLogger("Flannel.Leases");
    private readonly List<Op> _queue = [];
    private readonly Dictionary<string, int> _pendingBySender = new(StringComparer.Ordinal);
    private readonly HashSet<string> _throttled = new(StringComparer.Ordinal);
    private int _pending;
    private List<Op>? _round;
    private List<Action>? _replies;
    private List<Action>? _failures;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(LeaseAllocatorSettings settings, LeaseAllocatorSetup setup, IActorRef replicator,
        LWWDictionaryKey<string, Lease> key) =>
        Akka.Actor.Props.Create(() => new LeaseAllocatorActor(settings, setup, replicator, key, new ClaimAuthorizer()));

    public LeaseAllocatorActor(LeaseAllocatorSettings settings, LeaseAllocatorSetup setup, IActorRef replicator,
        LWWDictionaryKey<string, Lease> key, ClaimAuthorizer authorizer)
    {
        _settings = settings;
        _setup = setup;
        _replicator = replicator;
        _key = key;
        _authorizer = authorizer;
        _cluster = Cluster.Get(Context.System);
        _self = _cluster.SelfUniqueAddress;

        Receive<ClaimRequest>(m => Admit(m, from => new ClaimOp(m, Sender, from),
            reason => new ClaimRefused(m.RequestId, reason, Permanent: false)));
        Receive<ReleaseRequest>(m => Admit(m, from => new ReleaseOp(m, Sender, from),
            reason => new ReleaseRefused(m.RequestId, reason)));
        Receive<GcTick>(_ =>
        {
            if (!_queue.OfType<GcOp>().Any()) Enqueue(new GcOp());
        });
        Receive<GetSuccess>(g => Apply(g.Get(_key).Entries));
        Receive<NotFound>(_ => Apply(ImmutableDictionary<string, Lease>.Empty));
        Receive<GetFailure>(_ => Fail($"no majority: could not read the lease table from a majority within {_settings.MajorityTimeout}"));
        Receive<UpdateSuccess>(_ => { Updated("ok"); Succeed(); });
        Receive<UpdateTimeout>(_ => { Updated("timeout"); Fail($"no majority: could not write the lease table to a majority within {_settings.MajorityTimeout}"); });
        Receive<ModifyFailure>(f => { Updated("failed"); Fail($"lease table update failed: {f.ErrorMessage}"); });
        Receive<StoreFailure>(_ => { Updated("failed"); Fail("lease table store failed"); });
    }

    protected override void PreStart()
    {
        _log.Info("Lease allocator started on {0} (Network {1}, {2})", _self.Address, _setup.AcceptedConf.Network,
            _setup.NodeCidrs is null ? "podCIDRs not honoured" : "podCIDRs from the Kubernetes API");
        Timers.StartPeriodicTimer("gc", GcTick.Instance, _settings.GcInterval);
    }

    /// <summary>The requester's member address as a lease owner string (Akka address without uid).</summary>
    private string? SenderAddress()
    {
        if (Sender.IsNobody()) return null;
        var address = Sender.Path.Address;
        return (address.HasLocalScope ? _self.Address : address).ToString();
    }

    private void Admit(object request, Func<string, Op> op, Func<string, object> refusal)
    {
        if (SenderAddress() is not { } from)
        {
            _events.LeaseRequestAnonymous(request.GetType().Name);
            return;
        }
        var mine = _pendingBySender.GetValueOrDefault(from);
        string? refused = null, tag = null;
        if (mine >= _settings.MaxQueuedPerSender)
            (refused, tag) = ($"too many requests queued from {from} ({mine}, cap flannel.leases.max-queued-per-sender = {_settings.MaxQueuedPerSender})",
                "sender-queue-full");
        else if (_pending >= _settings.MaxQueued)
            (refused, tag) = ($"the lease allocator has {_pending} requests queued (cap flannel.leases.max-queued = {_settings.MaxQueued})",
                "queue-full");
        if (refused is not null)
        {
            Refused(tag!);
            // Logged once per episode: a flooding sender must not flood the log too.
            if (_throttled.Add(from)) _events.LeaseRequestsThrottled(from, refused);
            Sender.Tell(refusal(refused));
            return;
        }
        _pendingBySender[from] = mine + 1;
        _pending++;
        Enqueue(op(from));
    }

    private static void Refused(string reason) =>
        FlannelInstruments.LeaseRequestsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    private void Enqueue(Op op)
    {
        _queue.Add(op);
        if (_round is null) StartRound();
    }

    private void StartRound()
    {
        _round = [.. _queue];
        _queue.Clear();
        _replicator.Tell(Dsl.Get(_key, new ReadMajority(_settings.MajorityTimeout)));
    }

    private void Apply(IImmutableDictionary<string, Lease> entries)
    {
        var now = DateTimeOffset.UtcNow;
        // One lease per subnet by the rule every node uses (LeasePrecedence), never throwing on duplicates.
        var view = LeasePrecedence.Build(entries);
        var work = new Dictionary<IPNetwork, Lease>(view.Table);
        var puts = new Dictionary<IPNetwork, Lease>();
        var removes = new HashSet<IPNetwork>();
        // Entries this single writer never writes (a second entry for a subnet, an entry under a key that is not its
        // subnet's text) came from a member writing the map directly or from a bug: remove them in this round, and
        // re-write a winner that stood under such a key under its own key.
        var strayKeys = entries.Where(e => e.Value is null || !LeasePrecedence.IsCanonicalKey(e.Key, e.Value))
            .Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        if (strayKeys.Count > 0)
        {
            foreach (var (key, lease) in entries)
                if (lease is not null && strayKeys.Contains(key) && ReferenceEquals(view.Table.GetValueOrDefault(lease.Subnet), lease)
                    && !entries.ContainsKey(lease.Subnet.ToString()))
                    puts[lease.Subnet] = lease;
            _log.Warning("Lease table holds {0} entr(ies) the allocator never writes (duplicate subnets or foreign keys); removing them",
                strayKeys.Count);
        }
        var live = AllocatorView.LiveMembersOf(_cluster.State.Members);
        _replies = [];
        _failures = [];

        void Put(Lease l)
        {
            work[l.Subnet] = l;
            puts[l.Subnet] = l;
            removes.Remove(l.Subnet);
        }

        void Remove(IPNetwork s)
        {
            if (!work.Remove(s)) return;
            puts.Remove(s);
            removes.Add(s);
        }

        AllocatorView View() => new(work, live, _setup.NodeCidrs, _setup.AcceptedConf, _settings.MaxLeases, now);

        foreach (var op in _round!)
        {
            switch (op)
            {
                case ClaimOp c:
                    var claim = c.Request.Claim;
                    switch (_authorizer.Decide(View(), claim, c.From))
                    {
                        case ClaimGrant g:
                            foreach (var stale in g.Evicted)
                                _events.LeaseStaleEvicted(stale.Lease.Subnet.ToString(), stale.Lease.Node, claim.Node, stale.Why);
                            if (g.ReboundFrom is { } old) _events.LeaseOwnerRebound(claim.Node, old, c.From);
                            foreach (var r in g.Removed) Remove(r);
                            Put(g.Lease);
                            _log.Info("Lease {0} granted to {1} at {2} ({3}, v{4}, expires {5:O})",
                                g.Lease.Subnet, g.Lease.Node, c.From, g.How, g.Lease.Version, g.Lease.Expiration);
                            _replies.Add(() => c.ReplyTo.Tell(new ClaimGranted(c.Request.RequestId, g.Lease, g.How)));
                            break;
                        case ClaimDenial d:
                            LogDenial(claim.Node, c.From, d);
                            _replies.Add(() => c.ReplyTo.Tell(new ClaimRefused(c.Request.RequestId, d.Reason, d.Permanent)));
                            break;
                    }
                    _failures.Add(() => c.ReplyTo.Tell(new ClaimRefused(c.Request.RequestId, _failureReason!, Permanent: false)));
                    break;
                case ReleaseOp rel:
                    var q = rel.Request;
                    var ask = new ReleaseAsk(q.Subnet, q.Kind, q.Force, q.OriginNode, q.Via, rel.From);
                    switch (ReleaseAuthorizer.Decide(View(), ask))
                    {
                        case ReleaseAllowed { Lease: var lease } allowed:
                            if (lease is not null)
                            {
                                Remove(lease.Subnet);
                                if (allowed.OtherNodes)
                                    _events.LeaseReleasedByOperator(lease.Subnet.ToString(), lease.Node, lease.Owner ?? "unknown", ask.Origin, q.Force);
                                else
                                    _log.Info("Lease {0} of {1} released ({2} from {3})", lease.Subnet, lease.Node, q.Kind, ask.Origin);
                            }
                            _replies.Add(() => rel.ReplyTo.Tell(new ReleaseDone(q.RequestId, q.Subnet, lease is not null)));
                            break;
                        case ReleaseDenied denied:
                            if (denied.Permanent)
                            {
                                Refused("denied");
                                _events.LeaseReleaseDenied(q.Kind.ToString(), q.Subnet.ToString(), ask.Origin, denied.Reason);
                            }
                            else _log.Warning("Release of {0} from {1} deferred: {2}", q.Subnet, ask.Origin, denied.Reason);
                            _replies.Add(() => rel.ReplyTo.Tell(new ReleaseRefused(q.RequestId, denied.Reason)));
                            break;
                    }
                    _failures.Add(() => rel.ReplyTo.Tell(new ReleaseRefused(q.RequestId, _failureReason!)));
                    break;
                case GcOp:
                    foreach (var s in SubnetAllocator.Expired(work, now))
                    {
                        _log.Info("Lease {0} of {1} expired at {2:O}; removing it", s, work[s].Node, work[s].Expiration);
                        Remove(s);
                    }
                    break;
            }
        }

        if (puts.Count == 0 && removes.Count == 0 && strayKeys.Count == 0)
        {
            Succeed();
            return;
        }
        _replicator.Tell(Dsl.Update(_key, LWWDictionary<string, Lease>.Empty, new WriteMajority(_settings.MajorityTimeout), d =>
        {
            foreach (var k in strayKeys) d = d.Remove(_self, k);
            foreach (var s in removes) d = d.Remove(_self, s.ToString());
            foreach (var (s, l) in puts) d = d.SetItem(_self, s.ToString(), l);
            return d;
        }));
    }

    private void LogDenial(string node, string from, ClaimDenial d)
    {
        switch (d.Kind)
        {
            case ClaimDenialKind.Unauthorized:
                Refused("denied");
                _events.LeaseClaimDenied(node, from, d.Reason);
                break;
            case ClaimDenialKind.NodeBound:
                Refused("denied");
                _events.LeaseNodeBound(node, from, d.Owner ?? "unknown");
                break;
            case ClaimDenialKind.TableFull:
                Refused("table-full");
                _events.LeaseTableFull(node, from, d.Reason);
                break;
            default:
                _log.Warning("Lease claim of {0} from {1} refused: {2}", node, from, d.Reason);
                break;
        }
    }

    private string? _failureReason;

    private static void Updated(string result) =>
        FlannelInstruments.DDataUpdates.Add(1, new KeyValuePair<string, object?>("result", result));

    private void Succeed()
    {
        foreach (var reply in _replies ?? []) reply();
        EndRound();
    }

    private void Fail(string reason)
    {
        _log.Warning("Lease round of {0} request(s) failed: {1}", _round?.Count ?? 0, reason);
        _failureReason = reason;
        if (_failures is null)
        {
            // The read failed: nothing was prepared yet, so answer every request directly.
            foreach (var op in _round ?? [])
            {
                switch (op)
                {
                    case ClaimOp c: c.ReplyTo.Tell(new ClaimRefused(c.Request.RequestId, reason, Permanent: false)); break;
                    case ReleaseOp r: r.ReplyTo.Tell(new ReleaseRefused(r.Request.RequestId, reason)); break;
                }
            }
        }
        else
        {
            foreach (var failure in _failures) failure();
        }
        EndRound();
    }

    private void EndRound()
    {
        foreach (var op in _round ?? [])
        {
            var from = op switch { ClaimOp c => c.From, ReleaseOp r => r.From, _ => null };
            if (from is null) continue;
            _pending--;
            var left = _pendingBySender[from] - 1;
            if (left == 0) _pendingBySender.Remove(from);
            else _pendingBySender[from] = left;
        }
        // A sender below its cap again (and the queue below the total cap) is logged afresh next time it floods.
        if (_throttled.Count > 0)
            _throttled.RemoveWhere(a => _pending < _settings.MaxQueued && _pendingBySender.GetValueOrDefault(a) < _settings.MaxQueuedPerSender);
        _round = null;
        _replies = null;
        _failures = null;
        _failureReason = null;
        if (_queue.Count > 0) StartRound();
    }
}
