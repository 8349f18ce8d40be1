using System.Collections.Immutable;
using System.Net;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;

namespace Flannel.Actors.Leases;

/// <summary>
/// The single writer of the lease table (runs as a cluster singleton). Requests that arrive while a round is busy
/// are batched into the next round: one ReadMajority, the claims applied one after the other with
/// <see cref="SubnetAllocator"/> (so a batch never hands out a subnet twice), one WriteMajority, then the replies.
/// Why this is partition-safe: a claim is granted only after a majority confirmed both the read and the write, and
/// a minority cannot form a majority, so it refuses (the node retries). Because every write goes through here,
/// LWW merges never have to arbitrate between concurrent claims; SubnetLeaseActor still watches for losing a subnet
/// as a safety net.
/// </summary>
internal sealed class LeaseAllocatorActor : ReceiveActor, IWithTimers
{
    private abstract record Op;
    private sealed record ClaimOp(ClaimRequest Request, IActorRef ReplyTo) : Op;
    private sealed record ReleaseOp(ReleaseRequest Request, IActorRef ReplyTo) : Op;
    private sealed record GcOp : Op;
    private sealed record GcTick
    {
        public static readonly GcTick Instance = new();
    }

    private readonly LeaseAllocatorSettings _settings;
    private readonly IActorRef _replicator;
    private readonly LWWDictionaryKey<string, Lease> _key;
    private readonly SubnetAllocator _allocator;
    private readonly UniqueAddress _self;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<Op> _queue = [];
    private List<Op>? _round;
    private List<Action>? _replies;
    private List<Action>? _failures;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(LeaseAllocatorSettings settings, IActorRef replicator, LWWDictionaryKey<string, Lease> key) =>
        Akka.Actor.Props.Create(() => new LeaseAllocatorActor(settings, replicator, key, new SubnetAllocator()));

    public LeaseAllocatorActor(LeaseAllocatorSettings settings, IActorRef replicator, LWWDictionaryKey<string, Lease> key,
        SubnetAllocator allocator)
    {
        _settings = settings;
        _replicator = replicator;
        _key = key;
        _allocator = allocator;
        _self = Cluster.Get(Context.System).SelfUniqueAddress;

        Receive<ClaimRequest>(m => Enqueue(new ClaimOp(m, Sender)));
        Receive<ReleaseRequest>(m => Enqueue(new ReleaseOp(m, Sender)));
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
        _log.Info("Lease allocator started on {Address}", _self.Address);
        Timers.StartPeriodicTimer("gc", GcTick.Instance, _settings.GcInterval);
    }

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
        var work = entries.Values.ToDictionary(l => l.Subnet);
        var puts = new Dictionary<IPNetwork, Lease>();
        var removes = new HashSet<IPNetwork>();
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

        foreach (var op in _round!)
        {
            switch (op)
            {
                case ClaimOp c:
                    var result = _allocator.Allocate(work, c.Request.Claim, now);
                    if (result is AllocationGranted g)
                    {
                        foreach (var r in g.Removed) Remove(r);
                        Put(g.Lease);
                        _log.Info("Lease {Subnet} granted to {Node} ({How}, v{Version}, expires {Expiration:O})",
                            g.Lease.Subnet, g.Lease.Node, g.How, g.Lease.Version, g.Lease.Expiration);
                        _replies.Add(() => c.ReplyTo.Tell(new ClaimGranted(c.Request.RequestId, g.Lease, g.How)));
                    }
                    else
                    {
                        var reason = ((AllocationRefused)result).Reason;
                        _log.Warning("Lease claim of {Node} refused: {Reason}", c.Request.Claim.Node, reason);
                        _replies.Add(() => c.ReplyTo.Tell(new ClaimRefused(c.Request.RequestId, reason, Permanent: true)));
                    }
                    _failures.Add(() => c.ReplyTo.Tell(new ClaimRefused(c.Request.RequestId, _failureReason!, Permanent: false)));
                    break;
                case ReleaseOp rel:
                    var existed = work.TryGetValue(rel.Request.Subnet, out var old);
                    Remove(rel.Request.Subnet);
                    if (existed) _log.Info("Lease {Subnet} of {Node} released", old!.Subnet, old.Node);
                    _replies.Add(() => rel.ReplyTo.Tell(new ReleaseDone(rel.Request.RequestId, rel.Request.Subnet, existed)));
                    _failures.Add(() => rel.ReplyTo.Tell(new ReleaseRefused(rel.Request.RequestId, _failureReason!)));
                    break;
                case GcOp:
                    foreach (var s in SubnetAllocator.Expired(work, now))
                    {
                        _log.Info("Lease {Subnet} of {Node} expired at {Expiration:O}; removing it", s, work[s].Node, work[s].Expiration);
                        Remove(s);
                    }
                    break;
            }
        }

        if (puts.Count == 0 && removes.Count == 0)
        {
            Succeed();
            return;
        }
        _replicator.Tell(Dsl.Update(_key, LWWDictionary<string, Lease>.Empty, new WriteMajority(_settings.MajorityTimeout), d =>
        {
            foreach (var s in removes) d = d.Remove(_self, s.ToString());
            foreach (var (s, l) in puts) d = d.SetItem(_self, s.ToString(), l);
            return d;
        }));
    }

    private string? _failureReason;

    private static void Updated(string result) =>
        Flannel.Actors.Observability.FlannelInstruments.DDataUpdates.Add(1, new KeyValuePair<string, object?>("result", result));

    private void Succeed()
    {
        foreach (var reply in _replies ?? []) reply();
        EndRound();
    }

    private void Fail(string reason)
    {
        _log.Warning("Lease round of {Count} request(s) failed: {Reason}", _round?.Count ?? 0, reason);
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
        _round = null;
        _replies = null;
        _failures = null;
        _failureReason = null;
        if (_queue.Count > 0) StartRound();
    }
}
