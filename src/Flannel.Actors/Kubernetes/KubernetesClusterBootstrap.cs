using Akka.Actor;
using Akka.Cluster;
using Akka.Discovery;
using Akka.Event;
using Flannel.Actors.Node;

namespace Flannel.Actors.Kubernetes;

/// <param name="ServiceName">Looked up through the discovery (the label selector's {0}).</param>
/// <param name="Interval">Time between lookup rounds.</param>
/// <param name="ProbeTimeout">How long a contact point may take to answer a probe (and the discovery to answer).</param>
/// <param name="StableRounds">Consecutive identical lookups required before the lowest contact forms a cluster.</param>
public sealed record ClusterBootstrapSettings(string ServiceName, TimeSpan Interval, TimeSpan ProbeTimeout, int StableRounds = 2)
{
    public static ClusterBootstrapSettings Default { get; } = new("flannel", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3));
}

/// <summary>
/// Seed discovery for the DaemonSet: every round it looks up the flannel pods, probes the other contact points'
/// <see cref="BootstrapProbeResponder"/>, applies <see cref="BootstrapDecider"/> and, once it says Form or Join, calls
/// Cluster.JoinSeedNodes exactly once. It stops itself when this node is Up.
/// A rejoining incarnation (the previous one was downed) also probes the <c>remembered</c> members, the owners of the
/// leases it last knew, in parallel with the lookup: when the API server is unreachable (a control plane down or cut off
/// with the minority) no pod can be listed, yet the running cluster answers and is joined. Remembered members only ever
/// lead to a Join: forming a cluster still needs stable lookups (<see cref="BootstrapDecider"/>).
/// </summary>
public sealed class KubernetesClusterBootstrap : ReceiveActor, IWithTimers
{
    private sealed record Tick;
    /// <param name="Contacts">The pods the lookup found; null when it failed (<paramref name="LookupError"/>).</param>
    private sealed record RoundDone(IReadOnlySet<Address>? Contacts, IReadOnlyDictionary<Address, ContactProbe> Probes, string? LookupError);
    private sealed record RoundFailed(Exception Error);

    private readonly ServiceDiscovery _discovery;
    private readonly ClusterBootstrapSettings _settings;
    private readonly IReadOnlyList<Address> _remembered;
    private readonly AgentStatus? _waitStatus;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ActorSystem _system = Context.System;
    private readonly List<IReadOnlySet<Address>> _lookups = new();
    private bool _inFlight;
    private bool _joinIssued;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="remembered">Members to probe besides the discovered pods (a rejoining incarnation: the owners of its
    /// last known leases); empty at a first start.</param>
    /// <param name="waitStatus">Set when this node has run in a cluster before (a restarted agent): each wait reason goes to
    /// readiness as "partitioned: waiting for the cluster: ...", as <see cref="RememberedClusterBootstrap"/> does in file
    /// mode; <see cref="ClusterQuorumWatcher"/> clears it once this node is Up in a majority. Null: a first start only logs.</param>
    public static Props Props(ServiceDiscovery discovery, ClusterBootstrapSettings settings, IReadOnlyList<Address>? remembered = null,
        AgentStatus? waitStatus = null) =>
        Akka.Actor.Props.Create(() => new KubernetesClusterBootstrap(discovery, settings, remembered ?? Array.Empty<Address>(), waitStatus));

    public KubernetesClusterBootstrap(ServiceDiscovery discovery, ClusterBootstrapSettings settings, IReadOnlyList<Address> remembered,
        AgentStatus? waitStatus = null)
    {
        _discovery = discovery;
        _settings = settings;
        _remembered = remembered;
        _waitStatus = waitStatus;
        Receive<Tick>(_ => StartRound());
        Receive<RoundDone>(OnRound);
        Receive<RoundFailed>(f =>
        {
            _inFlight = false;
            _log.Warning("Seed discovery round failed: {Error}", f.Error.Message);
        });
        Receive<ClusterEvent.MemberUp>(up =>
        {
            if (up.Member.Address != _cluster.SelfAddress) return;
            _log.Info("Cluster bootstrap done: {Address} is Up", _cluster.SelfAddress);
            Context.Stop(Self);
        });
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberUp));
        Timers.StartPeriodicTimer("round", new Tick(), TimeSpan.Zero, _settings.Interval);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void StartRound()
    {
        if (_inFlight || _joinIssued) return;
        _inFlight = true;
        var self = _cluster.SelfAddress;
        RunRoundAsync(self).PipeTo(Self, failure: e => new RoundFailed(e));
    }

    private async Task<RoundDone> RunRoundAsync(Address self)
    {
        // Remembered members are asked at once, not after the lookup: an unreachable API server costs a whole timeout.
        var remembered = _remembered.Where(a => a != self).Distinct()
            .Select(a => (Address: a, Probe: ProbeAsync(a))).ToList();
        var lookup = LookupAsync(self);
        // A remembered member that answers "member" settles the round (a Join) without waiting for the API server.
        var pending = remembered.Select(r => (Task)r.Probe).Append(lookup).ToList();
        while (!lookup.IsCompleted && !remembered.Any(r => r.Probe.IsCompletedSuccessfully && r.Probe.Result is ContactProbe.Member))
            pending.Remove(await Task.WhenAny(pending));
        if (!lookup.IsCompleted)
        {
            _ = lookup.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            return new RoundDone(null, remembered.Where(r => r.Probe.IsCompletedSuccessfully).ToDictionary(r => r.Address, r => r.Probe.Result), null);
        }
        HashSet<Address>? contacts = null;
        string? lookupError = null;
        try
        {
            contacts = await lookup;
        }
        catch (Exception e) when (remembered.Count > 0)
        {
            lookupError = e.Message;
        }
        var probes = new Dictionary<Address, ContactProbe>();
        foreach (var (address, probe) in remembered) probes[address] = await probe;
        var discovered = await Task.WhenAll((contacts ?? []).Where(c => c != self && !probes.ContainsKey(c)).Select(async c => (c, await ProbeAsync(c))));
        foreach (var (address, probe) in discovered) probes[address] = probe;
        return new RoundDone(contacts, probes, lookupError);
    }

    private async Task<HashSet<Address>> LookupAsync(Address self)
    {
        var resolved = await _discovery.Lookup(new Lookup(_settings.ServiceName), _settings.ProbeTimeout);
        return resolved.Addresses
            .Select(t => new Address(self.Protocol, self.System, t.Host, t.Port ?? self.Port))
            .ToHashSet();
    }

    private async Task<ContactProbe> ProbeAsync(Address contact)
    {
        try
        {
            var path = new RootActorPath(contact) / "user" / BootstrapProbeResponder.Name;
            var reply = await _system.ActorSelection(path).Ask<BootstrapProbeReply>(new BootstrapProbe(), _settings.ProbeTimeout);
            return reply.IsMember
                ? new ContactProbe.Member(reply.Members.Select(Address.Parse).ToList())
                : new ContactProbe.NotMember();
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return new ContactProbe.NoAnswer();
        }
    }

    private void OnRound(RoundDone round)
    {
        _inFlight = false;
        BootstrapDecision decision;
        if (round.Contacts is null)
        {
            // No lookup this round (it failed, or a remembered member answered first): only a remembered member's answer
            // can lead anywhere (a Join); forming needs lookups.
            if (round.LookupError is not null)
                _log.Warning("Seed discovery round failed: {Error}; asked the {Count} remembered members instead", round.LookupError, _remembered.Count);
            decision = BootstrapDecider.Decide(_cluster.SelfAddress, [], round.Probes, _settings.StableRounds);
        }
        else
        {
            _lookups.Add(round.Contacts);
            if (_lookups.Count > _settings.StableRounds) _lookups.RemoveAt(0);
            decision = BootstrapDecider.Decide(_cluster.SelfAddress, _lookups, round.Probes, _settings.StableRounds);
        }
        switch (decision)
        {
            case BootstrapDecision.Wait wait:
                _log.Info("Cluster bootstrap waiting: {Reason}", wait.Reason);
                _waitStatus?.Update(s => s with { Partitioned = $"waiting for the cluster: {wait.Reason}" });
                return;
            case BootstrapDecision.Form:
                _log.Info("Cluster bootstrap: {Address} is the lowest of {Count} contact points and none is a member; forming the cluster",
                    _cluster.SelfAddress, round.Contacts!.Count);
                _cluster.JoinSeedNodes([_cluster.SelfAddress]);
                break;
            case BootstrapDecision.Join join:
                _log.Info("Cluster bootstrap: joining the existing cluster through {Seeds}", string.Join(", ", join.Seeds));
                _cluster.JoinSeedNodes(join.Seeds);
                break;
        }
        _joinIssued = true;
        _waitStatus?.Update(s => s with { Partitioned = s.Partitioned?.StartsWith("waiting for the cluster", StringComparison.Ordinal) == true ? "joining the cluster" : s.Partitioned });
        Timers.Cancel("round");
        Context.System.EventStream.Publish(new ClusterBootstrapDecided(decision));
    }
}

public static class KubernetesClusterBootstrapExtensions
{
    public const string BootstrapActorName = "flannel-cluster-bootstrap";

    /// <summary>Starts the probe responder and the bootstrap on this node; returns the bootstrap actor.</summary>
    /// <param name="remembered">See <see cref="KubernetesClusterBootstrap.Props"/>.</param>
    /// <param name="waitStatus">See <see cref="KubernetesClusterBootstrap.Props"/>.</param>
    public static IActorRef StartKubernetesClusterBootstrap(this ActorSystem system, ServiceDiscovery discovery, ClusterBootstrapSettings settings,
        IReadOnlyList<Address>? remembered = null, AgentStatus? waitStatus = null)
    {
        system.ActorOf(BootstrapProbeResponder.Props(), BootstrapProbeResponder.Name);
        return system.ActorOf(KubernetesClusterBootstrap.Props(discovery, settings, remembered, waitStatus), BootstrapActorName);
    }
}
