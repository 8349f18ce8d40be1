using System.Net;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Leases;
using Flannel.Actors.NetConfig;
using Flannel.Actors.Node;
using Flannel.Actors.Observability;
using Flannel.Actors.Routes;
using Flannel.Actors.Tunnel;
using Flannel.Actors.Cmd;
using Flannel.Host.Ctl;
using Flannel.Host.Health;
using Flannel.Host.Kubernetes;
using Flannel.Host.Hosting;
using Flannel.Host.Logging;
using Flannel.Host.Metrics;
using Flannel.Host.Options;
using Flannel.Host.Security;
using Flannel.Net.Backends;
using Flannel.Net.Config;
using Flannel.Net.Interfaces;
using Flannel.Net.Masq;
using Flannel.Net.SubnetEnv;
using Flannel.Net.Tunnel;

namespace Flannel.Host.Agent;

/// <summary>
/// flanneld as the agent. Start order like flannel: pick the interface and public IP, read net-conf.json, prepare the
/// backend, start the actor system (join the cluster), acquire the lease, configure the backend, write subnet.env,
/// apply ip-masq, program the peers, report ready. Exit codes: 0 after SIGTERM/SIGINT, 1 when the start fails or the
/// agent gives up (lease lost, backend broken).
/// </summary>
public static class AgentRunner
{
    public static async Task<int> RunAsync(FlanneldOptions options, CancellationToken ct)
    {
        var level = new LogLevelSwitch(options.LogLevel);
        using var loggerFactory = FlannelLoggerFactory.Create(options.LogFormat, level);
        var log = loggerFactory.CreateLogger("Flannel.Agent");
        try
        {
            return await RunAsync(options, level, loggerFactory, log, ct).ConfigureAwait(false);
        }
        catch (StartupException e)
        {
            log.LogError("{Message}", e.Message);
            Console.Error.WriteLine($"flanneld: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(FlanneldOptions options, LogLevelSwitch level, ILoggerFactory loggerFactory, ILogger log,
        CancellationToken ct)
    {
        KubeNodeContext? kube = null;
        if (options.KubeSubnetMgr)
        {
            kube = await StepAsync("--kube-subnet-mgr", () => KubeNodeContext.LoadAsync(options, log, ct)).ConfigureAwait(false);
            options = options with { NodeName = kube.NodeName };
        }
        log.LogInformation("flanneld {Version} starting as node {Node}", Program.Version, options.NodeName);

        var iface = Step("--iface", () => new InterfaceSelector().Select(options.InterfaceSelection));
        if (kube?.PublicIpOverwrite is { } overwrite) iface = iface with { PublicIp = overwrite };
        log.LogInformation("using interface {Interface}", iface.ToString());

        var clusterHost = options.ClusterHostname ?? iface.Address.ToString();
        // A node that is its own only seed forms the cluster at once instead of waiting out seed-node-timeout.
        // With several seeds the list is passed unchanged, self included: Akka's first-seed process then asks the
        // other seeds before forming a cluster, so a restarted first seed rejoins instead of starting a second cluster.
        bool IsSelf(ClusterSeed s) =>
            s.Port == options.ClusterPort && (s.Host == clusterHost || s.Host == iface.Address.ToString());
        var seeds = options.ClusterSeeds.All(IsSelf) ? new List<ClusterSeed>() : options.ClusterSeeds.ToList();
        // In Kubernetes without --cluster-seeds the agents find each other by listing the flannel pods.
        var discoverSeeds = kube is not null && options.ClusterSeeds.Count == 0;
        // The cluster transport is settled before the backend touches the kernel: a refused start changes nothing.
        var (tls, host) = ClusterTransport(options, clusterHost, joinsOthers: seeds.Count > 0 || discoverSeeds, discoverSeeds, log);
        clusterHost = host;

        var (conf, confJson) = kube?.ConfigMapNetConf is { } fromConfigMap
            ? ParseNetConf(fromConfigMap, "configmap kube-flannel-cfg")
            : ReadNetConf(options.NetConfigPath);
        if (conf.Network is null)
            throw new StartupException($"{NetConf.FileName}: Network is required (IPv6-only networks are not supported by this agent)");
        log.LogInformation("net-conf: Network {Network}, SubnetLen {SubnetLen}, backend {Backend}", conf.Network, conf.SubnetLen, conf.Backend.Type);
        if (kube is not null) Step("--kube-subnet-mgr", () => { kube.RequirePodCidrInside(conf); return 0; });

        var previous = PreviousSubnet(options.SubnetFile, log);

        // One object for the agent's lifetime; the live backend switch replaces what runs inside it.
        using var backend = Step("backend", () =>
        {
            var b = new SwitchableBackend(BackendFactory.Create(conf.Backend, iface));
            b.Prepare();
            return b;
        });
        log.LogInformation("backend {Backend} prepared (mtu {Mtu})", backend.Type, backend.Mtu);

        var akkaConfig = Step("--hocon-file", () =>
            AkkaConfigBuilder.Build(clusterHost, options.ClusterPort, seeds, options.HoconFile, tls: tls is not null));
        if (discoverSeeds) akkaConfig = KubernetesSeedDiscovery.Hocon(KubeAgentServices.SeedOptions(options)).WithFallback(akkaConfig);
        // The lease allocator (on whichever node hosts it) judges claims against this node's accepted net-conf and, in
        // Kubernetes mode, the podCIDRs the node watcher reads from the API.
        var nodeCidrs = kube is null ? null : new KubeNodeCidrAuthority();
        var setup = BootstrapSetup.Create().WithConfig(AkkaLogging.Config(options.LogLevel).WithFallback(akkaConfig))
            .And(new FlannelLoggingSetup(loggerFactory))
            .And(new LeaseAllocatorSetup(conf, nodeCidrs));
        // Refused certificates (4002) and refused connections (4003) are throttled apart: a stranger with a certificate
        // shows up in both, once per minute each.
        if (tls is not null) setup = setup.And(tls.SslSetup(loggerFactory.CreateLogger("Flannel.Security")));
        var system = ActorSystem.Create(AkkaConfigBuilder.SystemName, setup);
        if (tls is not null)
            system.ActorOf(HandshakeRefusalWatcher.Props(new RefusalThrottle(TimeSpan.FromMinutes(1))), HandshakeRefusalWatcher.Name);
        var status = new AgentStatus(options.NodeName);
        status.Update(s => s with { PublicIp = iface.PublicIp.ToString(), BackendType = backend.Type, BackendPrepared = true });
        HealthServer? health = null;
        AgentObservability? observability = null;
        NetConfFileWatcher? fileWatcher = null;
        KubeAgentServices? kubeServices = null;
        try
        {
            var cluster = Cluster.Get(system);
            if (discoverSeeds)
            {
                log.LogInformation("no --cluster-seeds: discovering the other agents through the Kubernetes API");
            }
            else if (seeds.Count == 0 && cluster.Settings.SeedNodes.Count == 0)
            {
                log.LogInformation("no other seed node: forming the cluster at {Address}", cluster.SelfAddress);
                cluster.Join(cluster.SelfAddress);
            }
            else
            {
                log.LogInformation("joining the cluster through {Seeds}", string.Join(",", cluster.Settings.SeedNodes));
            }

            var nodeWatcher = kube is null ? null : KubeAgentServices.StartNodeWatcher(system, kube, options, nodeCidrs!);
            var leaseOptions = new LeaseOptions(options.NodeName, iface.PublicIp, conf, backend.Type, backend.LeaseData,
                previous, kube?.PodCidr, LeaseOptions.DefaultTtl, options.SubnetLeaseRenewMargin);
            var leases = system.ActorOf(SubnetLeaseActor.Props(leaseOptions), "leases");
            var netConfSource = kube?.ConfigMapNetConf is null ? options.NetConfigPath : "configmap kube-flannel-cfg";
            var netConf = system.ActorOf(NetConfActor.Props(conf, confJson, netConfSource), "config");
            var masq = MasqManager.Create(
                new MasqOptions(options.IpMasq, options.IptablesForwardRules, !options.IpMasqFullyRandomDisable), options.UseNftables);
            var settings = new NodeAgentSettings(
                options.NodeName, conf, backend,
                new NodeEffects(options.SubnetFile, options.IpMasq, options.IpMasq || options.IptablesForwardRules ? masq : null),
                new RouteProgrammerSettings(options.NodeName, RouteProgrammerSettings.DefaultPeriod,
                    RouteProgrammerSettings.DefaultDebounce, KernelWatch.Netlink),
                options.IptablesResync);
            var node = system.ActorOf(NodeAgentActor.Props(settings, leases, status), "node");
            system.ActorOf(UdpTunnelActor.Props(UdpTunnelProbe.For(() => ((backend.Current as UdpBackend)?.DataPath as UdpTunnelDataPath)?.Tunnel),
                status, TimeSpan.FromSeconds(5)), "tunnel");

            // Live backend switch: one versioned net-conf for the cluster; every node switches when it changes.
            var switcher = system.ActorOf(BackendSwitchActor.Props(backend, c => BackendFactory.Create(c, iface), leases, node, status,
                settings.Effects), "backend-switch");
            var clusterNetConf = system.ActorOf(ClusterNetConfActor.Props(conf, switcher, netConf), "cluster-config");
            if (kube is not null)
                kubeServices = KubeAgentServices.Start(system, kube, options, discoverSeeds, nodeWatcher!, leases, clusterNetConf, status, reason =>
                {
                    // Stop renewing first, so the other nodes' release of our lease is final.
                    leases.Tell(PoisonPill.Instance);
                    status.Fail(reason);
                }, loggerFactory);
            else
                fileWatcher = new NetConfFileWatcher(options.NetConfigPath, confJson, clusterNetConf, NetConfFileWatcher.DefaultInterval,
                    loggerFactory.CreateLogger("Flannel.Config"));

            var cmd = AgentCmdContext.Create(options.NodeName, leases, node, netConf, backend, status, level,
                statusView: () => View(status, cluster, backend));
            // The command host's errors name the flag (--cmd-socket PATH: ..., or the --cmd-port endpoint).
            observability = Step("command host", () => AgentObservability.Start(system, cmd, options.CmdSocket, options.CmdPort));
            if (tls is not null)
                observability.Metrics.ClusterCertificateExpiry.Set(new DateTimeOffset(tls.Certificate.NotAfter.ToUniversalTime()).ToUnixTimeSeconds());

            if (options.HealthzPort != 0)
            {
                var endpoint = new IPEndPoint(options.HealthzIp, options.HealthzPort);
                var metrics = observability.Metrics;
                health = await HealthServer.StartAsync(endpoint, status, MetricsEndpoints.Routes(metrics), ct).ConfigureAwait(false);
                log.LogInformation("health endpoints on http://{Endpoint}/healthz and /readyz", endpoint.ToString());
            }

            var stopped = Task.Delay(Timeout.Infinite, ct);
            var done = await Task.WhenAny(stopped, status.Failed, system.WhenTerminated).ConfigureAwait(false);
            if (done == status.Failed)
            {
                log.LogError("flanneld exiting: {Reason}", status.Failed.Result);
                return 1;
            }
            // SIGTERM may reach Akka's own CLR shutdown hook first: that is a requested stop, not a failure.
            if (done == system.WhenTerminated && !ct.IsCancellationRequested
                && CoordinatedShutdown.Get(system).ShutdownReason is not CoordinatedShutdown.ClrExitReason)
            {
                log.LogError("flanneld exiting: the actor system stopped ({Reason})",
                    CoordinatedShutdown.Get(system).ShutdownReason?.ToString() ?? "removed from the cluster");
                return 1;
            }
            log.LogInformation("flanneld stopping (signal)");
            return 0;
        }
        finally
        {
            if (kubeServices is not null) await kubeServices.DisposeAsync().ConfigureAwait(false);
            if (fileWatcher is not null) await fileWatcher.DisposeAsync().ConfigureAwait(false);
            if (health is not null) await health.DisposeAsync().ConfigureAwait(false);
            if (observability is not null) await observability.DisposeAsync().ConfigureAwait(false);
            // Leave the cluster gracefully: the lease stays until it expires, so a restart gets the same subnet.
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
            await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Loads the cluster credential and applies <see cref="ClusterTransportPolicy"/>: TLS, loopback only, insecure
    /// (warned) or a refused start. Returns the credential (null without TLS) and the host remoting binds to.
    /// </summary>
    private static (ClusterTls? Tls, string Host) ClusterTransport(FlanneldOptions options, string clusterHost, bool joinsOthers,
        bool discoverSeeds, ILogger log)
    {
        ClusterTls? tls = null;
        if (options.HasClusterTls)
        {
            try { tls = ClusterTls.Load(options.ClusterTlsCert!, options.ClusterTlsKey!, options.ClusterTlsCa!); }
            catch (ClusterTlsException e) { throw new StartupException(e.Message); }
        }
        switch (ClusterTransportPolicy.Decide(tls is not null, options.ClusterInsecure, joinsOthers))
        {
            case ClusterTransportMode.Tls:
                log.ClusterTlsEnabled(tls!.Certificate.Subject, tls.Certificate.NotAfter.ToUniversalTime(), tls.Ca.Count, tls.CaFile);
                if (tls.DaysLeftIfExpiringSoon(DateTimeOffset.UtcNow) is { } days)
                    log.ClusterCertificateExpiresSoon(tls.Certificate.Subject, tls.Certificate.NotAfter.ToUniversalTime(), days);
                return (tls, clusterHost);
            case ClusterTransportMode.Insecure:
                log.ClusterInsecure($"{clusterHost}:{options.ClusterPort}");
                return (null, clusterHost);
            case ClusterTransportMode.LocalOnly:
                log.ClusterLocalOnly($"{ClusterTransportPolicy.LoopbackHost}:{options.ClusterPort}");
                return (null, ClusterTransportPolicy.LoopbackHost);
            default:
                throw new StartupException(ClusterTransportPolicy.RefusalMessage(options.ClusterPort, discoverSeeds));
        }
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
        return StatusView.From(status.Current, members, drops);
    }

    private static (NetConf Conf, string Json) ReadNetConf(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"--net-config-path: cannot read {path}: {e.Message}");
        }
        return ParseNetConf(json, path);
    }

    private static (NetConf Conf, string Json) ParseNetConf(string json, string source)
    {
        try
        {
            return (NetConf.Parse(json), json);
        }
        catch (NetConfException e)
        {
            throw new StartupException($"{source}: {e.Message}");
        }
    }

    /// <summary>The lease of the subnet.env a previous run wrote (flannel prefers it when it is still free).</summary>
    private static IPNetwork? PreviousSubnet(string subnetFile, ILogger log)
    {
        if (!File.Exists(subnetFile)) return null;
        try
        {
            var env = SubnetEnvFile.Read(subnetFile);
            log.LogInformation("previous subnet from {File}: {Subnet}", subnetFile, env.Lease.ToString());
            return env.Lease;
        }
        catch (SubnetEnvException e)
        {
            log.LogWarning("ignoring {File}: {Error}", subnetFile, e.Message);
            return null;
        }
    }

    private static T Step<T>(string what, Func<T> step)
    {
        try
        {
            return step();
        }
        catch (Exception e) when (e is InterfaceSelectionException or ArgumentException or InvalidOperationException
                                       or IOException or Flannel.Net.Netlink.NetlinkException or Akka.Configuration.ConfigurationException
                                       or CommandHostException)
        {
            throw new StartupException($"{what}: {e.Message}");
        }
    }

    private static async Task<T> StepAsync<T>(string what, Func<Task<T>> step)
    {
        try
        {
            return await step().ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw new StartupException($"{what}: {e.Message}");
        }
    }

    private sealed class StartupException(string message) : Exception(message);
}
