using System.Net;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Flannel.Actors.Cmd;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Flannel.Actors.NetConfig;
using Flannel.Actors.Node;
using Flannel.Actors.Routes;
using Flannel.Actors.Tunnel;
using Flannel.Actors.Observability;
using Flannel.Host.Ctl;
using Flannel.Host.Hosting;
using Flannel.Host.Health;
using Flannel.Host.Kubernetes;
using Flannel.Host.Logging;
using Flannel.Host.Options;
using Flannel.Host.Security;
using Flannel.Net.Backends;
using Flannel.Net.Config;
using Flannel.Net.Interfaces;
using Flannel.Net.Tunnel;

namespace Flannel.Host.Agent;

/// <summary>
/// What outlives every actor system of the process: the data plane (the backend with its devices, routes and, for udp,
/// the tunnel threads; subnet.env and the masquerade rules through <see cref="Effects"/>) and the agent's status, which
/// holds the last known lease and lease table. Built once by <see cref="AgentRunner"/>; each
/// <see cref="ControlPlane"/> incarnation is handed it.
/// </summary>
public sealed record DataPlane(
    SwitchableBackend Backend,
    ExternalInterface Interface,
    NetConf Conf,
    string ConfJson,
    NodeEffects Effects,
    AgentStatus Status,
    IPNetwork? PreviousSubnet)
{
    private NetConf? _inForce;

    /// <summary>The net-conf the data plane runs: <see cref="Conf"/> until a live backend switch replaced it.</summary>
    public NetConf InForce
    {
        get => Volatile.Read(ref _inForce) ?? Conf;
        set => Volatile.Write(ref _inForce, value);
    }
}

/// <summary>How to start one incarnation of the control plane (everything that does not change between them).</summary>
public sealed record ControlPlaneSettings(
    FlanneldOptions Options,
    LogLevelSwitch Level,
    ILoggerFactory LoggerFactory,
    KubeNodeContext? Kube,
    KubeNodeCidrAuthority? NodeCidrs,
    bool DiscoverSeeds,
    ClusterTls? Tls,
    string ClusterHost,
    Func<IReadOnlyList<ClusterSeed>, Config> AkkaConfig)
{
    /// <summary>Kubernetes mode: the Node list kept across incarnations (a rejoining one starts from it).</summary>
    public ForeignNodeMemory? ForeignNodes { get; init; }
}

/// <summary>
/// One incarnation of the agent's control plane: an actor system (a new cluster member UID each time) with the lease,
/// node, route, backend-switch and config actors, the command host and, in Kubernetes mode, the API watchers. It drives
/// the shared <see cref="DataPlane"/> but never tears it down: <see cref="DisposeAsync"/> stops only what it started.
/// A rejoining incarnation (number 2 and up) keeps this node's subnet (the lease it still holds is preferred, and the
/// allocator leaves a live lease with its owner) and serves the last known lease table until the replicated one
/// arrives, so the route programmer resumes from it instead of emptying the kernel and the tunnel.
/// </summary>
public sealed class ControlPlane : IAsyncDisposable
{
    private readonly ILogger _log;
    private NetConfFileWatcher? _fileWatcher;
    private KubeAgentServices? _kubeServices;
    private bool _disposed;

    private ControlPlane(ActorSystem system, int incarnation, ILogger log)
    {
        System = system;
        Incarnation = incarnation;
        _log = log;
    }

    public ActorSystem System { get; }
    public int Incarnation { get; }
    public AgentObservability? Observability { get; private set; }

    /// <summary>Why the actor system ran CoordinatedShutdown (null while it runs).</summary>
    public CoordinatedShutdown.Reason? ShutdownReason => CoordinatedShutdown.Get(System).ShutdownReason;

    /// <param name="seeds">Whom to join (a rejoining incarnation: never this node itself, see <see cref="RejoinSeeds"/>).</param>
    /// <param name="previous">The previous incarnation's observability (already disposed), to keep one metrics registry.</param>
    /// <param name="formation">Set when the lease store remembers a cluster of several nodes (first incarnation, static
    /// seeds): <paramref name="seeds"/> is then empty and <see cref="RememberedClusterBootstrap"/> decides whom to join.</param>
    /// <param name="firstSeed">Set when this node is the first of its static seeds and nothing is remembered (first
    /// incarnation): <paramref name="seeds"/> is then empty and <see cref="FirstSeedBootstrap"/> starts the cluster.</param>
    public static ControlPlane Start(ControlPlaneSettings s, DataPlane data, int incarnation, DateTimeOffset? leftAt,
        IReadOnlyList<ClusterSeed> seeds, AgentObservability? previous, RememberedClusterBootstrapSettings? formation = null,
        FirstSeedBootstrapSettings? firstSeed = null)
    {
        var log = s.LoggerFactory.CreateLogger("Flannel.Agent");
        var setup = BootstrapSetup.Create().WithConfig(AkkaLogging.Config(s.Options.LogLevel).WithFallback(s.AkkaConfig(seeds)))
            .And(new FlannelLoggingSetup(s.LoggerFactory))
            .And(new LeaseAllocatorSetup(data.Conf, s.NodeCidrs));
        // Refused certificates (4002) and refused connections (4003) are throttled apart: a stranger with a certificate
        // shows up in both, once per minute each.
        if (s.Tls is not null) setup = setup.And(s.Tls.SslSetup(s.LoggerFactory.CreateLogger("Flannel.Security")));
        var system = ActorSystem.Create(AkkaConfigBuilder.SystemName, setup);
        var plane = new ControlPlane(system, incarnation, log);
        try
        {
            plane.StartActors(s, data, incarnation, leftAt, seeds, previous, formation, firstSeed);
            return plane;
        }
        catch
        {
            plane.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    private void StartActors(ControlPlaneSettings s, DataPlane data, int incarnation, DateTimeOffset? leftAt,
        IReadOnlyList<ClusterSeed> seeds, AgentObservability? previous, RememberedClusterBootstrapSettings? formation,
        FirstSeedBootstrapSettings? firstSeed)
    {
        var options = s.Options;
        var kube = s.Kube;
        var backend = data.Backend;
        var status = data.Status;
        // After a live backend switch the data plane runs another backend than the file at start said: start from that,
        // or the cluster's current config would look like a change and rebuild the running backend.
        var conf = data.InForce;
        var system = System;
        if (s.Tls is not null)
            system.ActorOf(HandshakeRefusalWatcher.Props(new RefusalThrottle(TimeSpan.FromMinutes(1))), HandshakeRefusalWatcher.Name);
        status.Update(st => st with { PublicIp = data.Interface.PublicIp.ToString(), BackendType = backend.Type, BackendPrepared = true });

        var cluster = Cluster.Get(system);
        system.ActorOf(ClusterQuorumWatcher.Props(status, incarnation, leftAt), "quorum");
        // Every agent with static seeds answers whether it is a member, so that a restarting agent that remembers the
        // cluster (RememberedClusterBootstrap) can tell the running cluster from a cluster restarting with it.
        if (!s.DiscoverSeeds) system.ActorOf(BootstrapProbeResponder.Props(), BootstrapProbeResponder.Name);
        if (s.DiscoverSeeds)
        {
            _log.LogInformation("no --cluster-seeds: discovering the other agents through the Kubernetes API");
        }
        else if (formation is not null)
        {
            _log.LogInformation("the lease store remembers a cluster: asking the seeds {Seeds} before joining or forming one",
                string.Join(",", formation.OtherSeeds));
            system.ActorOf(RememberedClusterBootstrap.Props(formation, status), RememberedClusterBootstrap.Name);
        }
        else if (firstSeed is not null)
        {
            // Akka runs its first-seed process only when the first seed is this node's own address as Akka sees it (a
            // seed given by another name than --cluster-hostname is not): otherwise the seeds go to Akka unchanged.
            if (firstSeed.Seeds[0].Equals(cluster.SelfAddress))
            {
                _log.LogInformation("first of the seeds {Seeds}: asking the others before forming or joining", string.Join(",", firstSeed.Seeds));
                system.ActorOf(FirstSeedBootstrap.Props(firstSeed), FirstSeedBootstrap.Name);
            }
            else
            {
                _log.LogInformation("joining the cluster through {Seeds}", string.Join(",", firstSeed.Seeds));
                cluster.JoinSeedNodes(firstSeed.Seeds);
            }
        }
        else if (seeds.Count == 0 && cluster.Settings.SeedNodes.Count == 0)
        {
            _log.LogInformation("no other seed node: forming the cluster at {Address}", cluster.SelfAddress);
            cluster.Join(cluster.SelfAddress);
        }
        else
        {
            _log.LogInformation("joining the cluster through {Seeds}", string.Join(",", cluster.Settings.SeedNodes));
        }

        var nodeWatcher = kube is null ? null : KubeAgentServices.StartNodeWatcher(system, kube, options, s.NodeCidrs!);
        var foreignNodes = nodeWatcher is null ? null : KubeAgentServices.StartForeignNodes(system, nodeWatcher, s.ForeignNodes);
        // A rejoining incarnation still holds its lease: prefer that subnet over the one of the old subnet.env.
        var last = status.Current;
        var preferred = last.Lease?.Subnet ?? data.PreviousSubnet;
        var leaseOptions = new LeaseOptions(options.NodeName, data.Interface.PublicIp, conf, backend.Type, backend.LeaseData,
            preferred, kube?.PodCidr, LeaseOptions.DefaultTtl, options.SubnetLeaseRenewMargin)
        {
            LastKnownTable = incarnation > 1 ? last.Leases : [],
        };
        var leases = system.ActorOf(SubnetLeaseActor.Props(leaseOptions), "leases");
        // Kubernetes mode, a process that has held no lease yet although subnet.env names the Node's podCIDR (a restart):
        // the data plane comes back from the Node objects at once instead of after the cluster's grant.
        var apiSubnet = kube is not null && last.Lease is null && Equals(data.PreviousSubnet, kube.PodCidr) ? kube.PodCidr : (System.Net.IPNetwork?)null;
        var settings = new NodeAgentSettings(
            options.NodeName, conf, backend, data.Effects,
            new RouteProgrammerSettings(options.NodeName, RouteProgrammerSettings.DefaultPeriod,
                RouteProgrammerSettings.DefaultDebounce, KernelWatch.Netlink)
            {
                ForeignNodes = foreignNodes,
                SelfBeforeLease = apiSubnet is { } s0 ? (s0, data.Interface.PublicIp) : null,
            },
            options.IptablesResync) { ApiSubnet = apiSubnet };
        // Live backend switch: one versioned net-conf for the cluster; every node switches when it changes. The switcher
        // swaps the data plane; the node agent owns the rest (subnet.env, status, reconcile, the answer).
        var switcher = system.ActorOf(BackendSwitchActor.Props(backend, c => BackendFactory.Create(c, data.Interface, new BackendOptions { UdpDatapath = options.UdpDatapath }), leases), "backend-switch");
        var node = system.ActorOf(NodeAgentActor.Props(settings, leases, status, switcher), "node");
        system.ActorOf(UdpTunnelActor.Props(UdpTunnelProbe.For(() => ((backend.Current as UdpBackend)?.DataPath as UdpTunnelDataPath)?.Tunnel,
            () => ((backend.Current as UdpBackend)?.DataPath as UdpTunnelDataPath)?.Snapshot()),
            status, TimeSpan.FromSeconds(5)), "tunnel");

        var netConfSource = kube?.ConfigMapNetConf is null ? options.NetConfigPath : "configmap kube-flannel-cfg";
        var clusterNetConf = system.ActorOf(ClusterNetConfActor.Props(NetConfInForce.AtStart(conf, data.ConfJson, netConfSource), node,
            inForceChanged: c => data.InForce = c), "cluster-config");
        if (kube is not null)
            _kubeServices = KubeAgentServices.Start(system, kube, options, s.DiscoverSeeds, nodeWatcher!, leases, clusterNetConf, status, reason =>
            {
                // Stop renewing first, so the other nodes' release of our lease is final.
                leases.Tell(PoisonPill.Instance);
                status.Fail(reason);
            }, s.LoggerFactory,
                // A rejoining incarnation also asks the members it last knew: the API server may be what is unreachable.
                rememberedMembers: incarnation > 1 ? RejoinContacts.From(last.Leases, options.NodeName, DateTimeOffset.UtcNow) : null,
                // A restarted agent says why it waits (partitioned: waiting for the cluster: ...), as in file mode.
                restarted: apiSubnet is not null);
        else
            _fileWatcher = new NetConfFileWatcher(options.NetConfigPath, data.ConfJson, clusterNetConf, NetConfFileWatcher.DefaultInterval,
                s.LoggerFactory.CreateLogger("Flannel.Config"));

        var cmd = AgentCmdContext.Create(options.NodeName, leases, node, clusterNetConf, backend, status, s.Level,
            statusView: () => View(status, cluster, backend));
        // The command host's errors name the flag (--cmd-socket PATH: ..., or the --cmd-port endpoint).
        Observability = AgentRunner.Step("command host", () => AgentObservability.Start(system, cmd, options.CmdSocket, options.CmdPort, previous: previous));
        if (s.Tls is not null)
            Observability.Metrics.ClusterCertificateExpiry.Set(new DateTimeOffset(s.Tls.Certificate.NotAfter.ToUniversalTime()).ToUnixTimeSeconds());
    }

    private static StatusView View(AgentStatus status, Cluster cluster, SwitchableBackend backend)
    {
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var members = state.Members
            .Select(m => new MemberView(m.Address.ToString(), m.Status.ToString(), !unreachable.Contains(m.Address),
                m.Address.Equals(state.Leader)))
            .ToList();
        IReadOnlyDictionary<string, long>? drops = null;
        if (backend.Current is UdpBackend { DataPath: UdpTunnelDataPath dp })
            drops = dp.Tunnel.Snapshot().Drops.ToDictionary(d => d.Key.ToString(), d => d.Value);
        return StatusView.From(status.Current, members, drops) with { UdpDatapath = (backend.Current as UdpBackend)?.Datapath };
    }

    /// <summary>
    /// Stops this incarnation's services and its actor system (leaving the cluster gracefully when it is still a
    /// member). The data plane is not touched: no actor tears the backend down when it stops.
    /// </summary>
    public ValueTask DisposeAsync() => StopAsync(null);

    /// <summary>
    /// Like <see cref="DisposeAsync"/>, but the process goes on with a new incarnation: the command host (socket) stays
    /// and answers "rejoining: <paramref name="why"/>" until the next incarnation takes it over.
    /// </summary>
    public ValueTask EndIncarnationAsync(string why) => StopAsync(why);

    private async ValueTask StopAsync(string? rejoining)
    {
        if (_disposed) return;
        _disposed = true;
        if (_kubeServices is not null) await _kubeServices.DisposeAsync().ConfigureAwait(false);
        if (_fileWatcher is not null) await _fileWatcher.DisposeAsync().ConfigureAwait(false);
        if (Observability is not null)
        {
            if (rejoining is null) await Observability.DisposeAsync().ConfigureAwait(false);
            else Observability.Detach(rejoining);
        }
        // Leave the cluster gracefully: the lease stays until it expires, so a restart gets the same subnet.
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
        if (!await System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(15)).ContinueWith(t => t.IsCompletedSuccessfully).ConfigureAwait(false))
            _log.LogWarning("actor system of incarnation {Incarnation} did not terminate within 15 s", Incarnation);
    }
}
