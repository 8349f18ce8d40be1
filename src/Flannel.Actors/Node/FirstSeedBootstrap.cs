using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Remote;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Observability;
using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Node;

/// <param name="Seeds">The configured seeds in their order, this node first (what Akka's start-up gets on a hand-over).</param>
/// <param name="OtherSeeds">The seeds that are not this node.</param>
/// <param name="ProbeTimeout">How long a seed may take to answer before the start is left to Akka.</param>
public sealed record FirstSeedBootstrapSettings(IReadOnlyList<Address> Seeds, IReadOnlyList<Address> OtherSeeds, TimeSpan ProbeTimeout);

/// <summary>
/// Starts the cluster for an agent that is the first of its static seeds (and whose lease store remembers no cluster of
/// others), in place of Akka's seed-node start-up: it asks every other seed's <see cref="BootstrapProbeResponder"/> once,
/// which opens the connections, and watches Akka.Remote's association errors; it applies <see cref="FirstSeedFormation"/>
/// (form at once when every other seed refused the connection, otherwise Akka's start-up as configured), calls
/// Cluster.JoinSeedNodes exactly once and stops.
/// </summary>
public sealed class FirstSeedBootstrap : ReceiveActor
{
    public const string Name = "first-seed-bootstrap";

    private sealed record Heard(Address Seed, SeedContact Contact);

    private readonly FirstSeedBootstrapSettings _settings;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILogger _events;
    private readonly Stopwatch _waited = Stopwatch.StartNew();
    private readonly Dictionary<Address, SeedContact> _contacts;

    public static Props Props(FirstSeedBootstrapSettings settings) => Akka.Actor.Props.Create(() => new FirstSeedBootstrap(settings));

    public FirstSeedBootstrap(FirstSeedBootstrapSettings settings)
    {
        if (settings.OtherSeeds.Count == 0) throw new ArgumentException("the first seed needs at least one other seed", nameof(settings));
        _settings = settings;
        _contacts = settings.OtherSeeds.Distinct().ToDictionary(s => s, _ => SeedContact.Pending);
        _events = Context.System.FlannelLogger("Flannel.Cluster");
        Receive<AssociationErrorEvent>(e =>
        {
            if (!e.IsInbound) Hear(e.RemoteAddress, RefusedAssociation.Is(e.Cause) ? SeedContact.Refused : SeedContact.Unknown);
        });
        Receive<Heard>(h => Hear(h.Seed, h.Contact));
    }

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(AssociationErrorEvent));
        var system = Context.System;
        foreach (var seed in _contacts.Keys)
        {
            var path = new RootActorPath(seed) / "user" / BootstrapProbeResponder.Name;
            system.ActorSelection(path).Ask<BootstrapProbeReply>(new BootstrapProbe(), _settings.ProbeTimeout)
                .ContinueWith(t => new Heard(seed, t.IsCompletedSuccessfully ? SeedContact.Answered : SeedContact.Unknown), TaskScheduler.Default)
                .PipeTo(Self);
        }
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void Hear(Address seed, SeedContact contact)
    {
        // The first word about a seed counts: its probe's time-out after a refusal changes nothing.
        if (!_contacts.TryGetValue(seed, out var known) || known != SeedContact.Pending) return;
        _contacts[seed] = contact;
        switch (FirstSeedFormation.Decide(_contacts))
        {
            case FirstSeedDecision.Wait:
                return;
            case FirstSeedDecision.Form form:
                _events.ClusterFormationDecided($"forming the cluster at {_cluster.SelfAddress} at once", form.Reason, _waited.Elapsed.TotalSeconds);
                _cluster.JoinSeedNodes([_cluster.SelfAddress]);
                break;
            case FirstSeedDecision.AkkaDefault akka:
                _events.ClusterFormationDecided($"joining through the seeds {string.Join(",", _settings.Seeds)} as configured", akka.Reason, _waited.Elapsed.TotalSeconds);
                _cluster.JoinSeedNodes(_settings.Seeds);
                break;
        }
        Context.Stop(Self);
    }
}
