using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Flannel.Actors.Observability;
using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Node;

/// <param name="Seeds">The configured seeds in their order, this node included (Akka's default start-up gets them as given).</param>
/// <param name="OtherSeeds">The seeds that are not this node (the ones asked each round).</param>
/// <param name="Interval">Time between probe rounds while waiting.</param>
/// <param name="ProbeTimeout">How long a seed may take to answer a probe.</param>
/// <param name="FormAloneAfter">--cluster-form-alone-after; null = never form alone.</param>
public sealed record RememberedClusterBootstrapSettings(IReadOnlyList<Address> Seeds, IReadOnlyList<Address> OtherSeeds, TimeSpan Interval, TimeSpan ProbeTimeout,
    TimeSpan? FormAloneAfter);

/// <summary>
/// Joins the cluster for an agent that started with a non-empty lease store and other seeds (static seeds), in place
/// of Akka's seed-node start-up: it reads the stored lease table (the replicator's local copy, loaded from the store),
/// then asks the other seeds' <see cref="BootstrapProbeResponder"/> every round and applies
/// <see cref="RememberedClusterFormation"/>; it calls Cluster.JoinSeedNodes exactly once and stops. While it waits,
/// readiness says "partitioned: waiting for the cluster ..." (ClusterQuorumWatcher clears it once this node is Up).
/// </summary>
public sealed class RememberedClusterBootstrap : ReceiveActor, IWithTimers
{
    public const string Name = "remembered-cluster-bootstrap";

    private sealed record Tick;
    private sealed record Remembered(RememberedCluster? Cluster, string? Problem);
    private sealed record RoundDone(IReadOnlyDictionary<Address, ContactProbe> Probes);

    private readonly RememberedClusterBootstrapSettings _settings;
    private readonly AgentStatus _status;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ActorSystem _system = Context.System;
    private readonly ILogger _events;
    private readonly Stopwatch _waited = Stopwatch.StartNew();
    private RememberedCluster? _remembered;
    private string? _lastWait;
    private bool _inFlight;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(RememberedClusterBootstrapSettings settings, AgentStatus status) =>
        Akka.Actor.Props.Create(() => new RememberedClusterBootstrap(settings, status));

    public RememberedClusterBootstrap(RememberedClusterBootstrapSettings settings, AgentStatus status)
    {
        _settings = settings;
        _status = status;
        _events = Context.System.FlannelLogger("Flannel.Cluster");
        Receive<Remembered>(OnRemembered);
        Receive<Tick>(_ => StartRound());
        Receive<RoundDone>(OnRound);
        Receive<Status.Failure>(f =>
        {
            _inFlight = false;
            _events.LogWarning("cluster formation round failed: {Error}", f.Cause.Message);
        });
    }

    protected override void PreStart()
    {
        var leases = LeaseAllocatorExtension.Get(_system);
        var node = _status.Current.NodeName;
        // The replicator answers once it has loaded the durable store (it stashes requests until then).
        leases.Replicator.Ask<IGetResponse>(Dsl.Get(leases.Key, ReadLocal.Instance), TimeSpan.FromSeconds(30))
            .ContinueWith(t =>
            {
                if (!t.IsCompletedSuccessfully) return new Remembered(null, t.Exception?.GetBaseException().Message ?? "no answer");
                return t.Result switch
                {
                    GetSuccess ok => new Remembered(Of(ok.Get(leases.Key).Entries.Values, node, DateTimeOffset.UtcNow), null),
                    NotFound => new Remembered(new RememberedCluster(0, false), null),
                    var other => new Remembered(null, other.GetType().Name),
                };
            }).PipeTo(Self);
    }

    /// <summary>What a stored table says about the cluster: distinct nodes with unexpired leases.</summary>
    public static RememberedCluster Of(IEnumerable<Lease> table, string self, DateTimeOffset now)
    {
        var live = table.Where(l => !l.IsExpired(now)).ToList();
        return new RememberedCluster(live.Select(l => l.Node).Distinct(StringComparer.Ordinal).Count(),
            live.Any(l => string.Equals(l.Node, self, StringComparison.Ordinal)));
    }

    private void OnRemembered(Remembered r)
    {
        // A table that cannot be read counts as remembered by the store file alone: the caller only starts this actor
        // when the file holds entries; waiting for a majority of an unknown size would never end, so assume the seeds.
        _remembered = r.Cluster ?? new RememberedCluster(_settings.Seeds.Count, true);
        if (r.Problem is not null)
            _events.LogWarning("could not read the stored lease table ({Problem}); counting the {Seeds} seeds as the remembered members", r.Problem, _settings.Seeds.Count);
        Timers.StartPeriodicTimer("round", new Tick(), TimeSpan.Zero, _settings.Interval);
    }

    private void StartRound()
    {
        if (_inFlight) return;
        _inFlight = true;
        ProbeAllAsync(_settings.OtherSeeds).PipeTo(Self);
    }

    private async Task<RoundDone> ProbeAllAsync(IReadOnlyList<Address> others)
    {
        var probes = await Task.WhenAll(others.Select(async c => (c, await ProbeAsync(c)))).ConfigureAwait(false);
        return new RoundDone(probes.ToDictionary(p => p.c, p => p.Item2));
    }

    private async Task<ContactProbe> ProbeAsync(Address seed)
    {
        try
        {
            var path = new RootActorPath(seed) / "user" / BootstrapProbeResponder.Name;
            var reply = await _system.ActorSelection(path).Ask<BootstrapProbeReply>(new BootstrapProbe(), _settings.ProbeTimeout).ConfigureAwait(false);
            return reply.IsMember ? new ContactProbe.Member(reply.Members.Select(Address.Parse).ToList()) : new ContactProbe.NotMember();
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return new ContactProbe.NoAnswer();
        }
    }

    private void OnRound(RoundDone round)
    {
        _inFlight = false;
        var decision = RememberedClusterFormation.Decide(_cluster.SelfAddress, _remembered, round.Probes, _waited.Elapsed, _settings.FormAloneAfter);
        var seconds = _waited.Elapsed.TotalSeconds;
        switch (decision)
        {
            case FormationDecision.Wait wait:
                if (wait.Reason != _lastWait)
                {
                    _events.ClusterFormationWaiting(wait.Reason, string.Join(",", round.Probes.Keys), _settings.Interval.TotalSeconds);
                    _lastWait = wait.Reason;
                }
                _status.Update(s => s with { Partitioned = $"waiting for the cluster: {wait.Reason}" });
                return;
            case FormationDecision.Join join:
                _events.ClusterFormationDecided($"joining the running cluster through {string.Join(",", join.Seeds)}", "a seed is a member", seconds);
                _cluster.JoinSeedNodes(join.Seeds);
                break;
            case FormationDecision.Form form:
                if (form.OnTimeout)
                    _events.ClusterFormedAloneAfterTimeout(form.Reason);
                else
                    _events.ClusterFormationDecided($"forming the cluster at {_cluster.SelfAddress}", form.Reason, seconds);
                _cluster.JoinSeedNodes([_cluster.SelfAddress]);
                break;
            case FormationDecision.AkkaDefault akka:
                _events.ClusterFormationDecided($"joining through the seeds {string.Join(",", _settings.Seeds)} as configured", akka.Reason, seconds);
                _cluster.JoinSeedNodes(_settings.Seeds);
                break;
        }
        _status.Update(s => s with { Partitioned = s.Partitioned?.StartsWith("waiting for the cluster", StringComparison.Ordinal) == true ? "joining the cluster" : s.Partitioned });
        Context.Stop(Self);
    }
}
