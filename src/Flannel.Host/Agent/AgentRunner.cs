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
using Flannel.Net.Memory;
using Flannel.Net.SubnetEnv;
using Flannel.Net.Tunnel;

namespace Flannel.Host.Agent;

/// <summary>
/// flanneld as the agent. Start order like flannel: pick the interface and public IP, read net-conf.json, prepare the
/// backend, start the actor system (join the cluster), acquire the lease, configure the backend, write subnet.env,
/// apply ip-masq, program the peers, report ready. Exit codes: 0 after SIGTERM/SIGINT, 1 when the start fails or the
/// agent gives up (lease lost, backend broken). The data plane (<see cref="DataPlane"/>) is built once and outlives the
/// actor system: when the system ends without our stop (downed by the split-brain resolver, removed, stopped by Akka)
/// the backend keeps forwarding with the last known peers and a new <see cref="ControlPlane"/> incarnation rejoins.
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
        log.LogInformation("flanneld {Version} starting as node {Node} (GC: {Gc})", Program.Version, options.NodeName, GcSettings.Describe());

        var iface = Step("--iface", () => new InterfaceSelector().Select(options.InterfaceSelection));
        if (kube?.PublicIpOverwrite is { } overwrite) iface = iface with { PublicIp = overwrite };
        log.LogInformation("using interface {Interface}", iface.ToString());

        var clusterHost = options.ClusterHostname ?? iface.Address.ToString();
        // A node that is its own only seed forms the cluster at once instead of waiting out seed-node-timeout.
        // With several seeds the list is passed unchanged, self included: Akka's first-seed process asks the other
        // seeds first, but forms a cluster alone when none answers within seed-node-timeout; a restart whose lease
        // store remembers a cluster therefore goes through RememberedClusterBootstrap instead (see below).
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

        if (options.LeaseStore is null) log.LeaseStoreOff();
        else if (Directory.Exists(options.LeaseStore))
            throw new StartupException($"--lease-store: {options.LeaseStore} is a directory; give the file to keep the lease table in");
        var previous = PreviousSubnet(options.SubnetFile, log);

        // One object for the agent's lifetime; the live backend switch replaces what runs inside it.
        using var backend = Step("backend", () =>
        {
            var b = new SwitchableBackend(BackendFactory.Create(conf.Backend, iface, new BackendOptions { UdpDatapath = options.UdpDatapath }));
            b.Prepare();
            return b;
        });
        if (backend.Current is UdpBackend udp)
            log.LogInformation(EventIds.UdpDatapathChosen,
                "udp data path {Datapath} ({Reason})", udp.Datapath, udp.DatapathReason);
        log.LogInformation("backend {Backend} prepared (mtu {Mtu})", backend.Type, backend.Mtu);

        var hoconConfig = Step("--hocon-file", () =>
            AkkaConfigBuilder.Build(clusterHost, options.ClusterPort, seeds, options.HoconFile, tls: tls is not null,
                leaseStore: options.LeaseStore));
        // Before the first actor system: DotNetty fixes its default buffer allocator at first use (Hosting/DotNettyBuffers).
        log.LogInformation("remoting buffers of accepted connections: {Allocator}", DotNettyBuffers.Configure(hoconConfig));
        Akka.Configuration.Config AkkaConfig(IReadOnlyList<ClusterSeed> joinThrough)
        {
            var config = ReferenceEquals(joinThrough, seeds)
                ? hoconConfig
                : Step("--hocon-file", () => AkkaConfigBuilder.Build(clusterHost, options.ClusterPort, joinThrough, options.HoconFile, tls: tls is not null,
                    leaseStore: options.LeaseStore));
            return discoverSeeds ? KubernetesSeedDiscovery.Hocon(KubeAgentServices.SeedOptions(options)).WithFallback(config) : config;
        }
        // The lease allocator (on whichever node hosts it) judges claims against this node's accepted net-conf and, in
        // Kubernetes mode, the podCIDRs the node watcher reads from the API.
        var nodeCidrs = kube is null ? null : new KubeNodeCidrAuthority();
        var status = new AgentStatus(options.NodeName);
        // Once per start-up: the first readiness, and a readiness after new start-up code ran (a rejoin's new incarnation,
        // a backend switch). Not on every readiness: a joining peer makes the state not ready until it is programmed, and
        // paging out again then would only make the agent fault its working set back in (measured: 3 releases in the
        // first second of a 3-node cluster before this rule).
        var incarnationNow = 0;
        string? releasedFor = null;
        if (options.ReleaseStartupPages)
            status.BecameReady += () =>
            {
                var key = $"{Volatile.Read(ref incarnationNow)}/{status.Current.BackendType}";
                if (Interlocked.Exchange(ref releasedFor, key) != key) _ = ReleaseStartupPagesAsync(log, ct);
            };
        status.Update(s => s with { PublicIp = iface.PublicIp.ToString(), BackendType = backend.Type, BackendPrepared = true });
        var masq = MasqManager.Create(
            new MasqOptions(options.IpMasq, options.IptablesForwardRules, !options.IpMasqFullyRandomDisable), options.UseNftables);
        var data = new DataPlane(backend, iface, conf, confJson,
            new NodeEffects(options.SubnetFile, options.IpMasq, options.IpMasq || options.IptablesForwardRules ? masq : null),
            status, previous);
        var settings = new ControlPlaneSettings(options, level, loggerFactory, kube, nodeCidrs, discoverSeeds, tls, clusterHost, AkkaConfig)
        {
            ForeignNodes = kube is null ? null : new ForeignNodeMemory(),
        };
        // A rejoining incarnation joins only the running cluster (never forms one of its own on its side of a partition).
        var rejoinSeeds = RejoinSeeds.For(seeds, IsSelf);
        // A restart whose lease store remembers a cluster does not let Akka's first seed form one alone either: it asks
        // the seeds first (RememberedClusterFormation), so a first seed restarted while cut off waits for the heal.
        RememberedClusterBootstrapSettings? formation = null;
        if (!discoverSeeds && rejoinSeeds.Count > 0 && StoreHoldsEntries(options.LeaseStore))
            formation = new RememberedClusterBootstrapSettings(
                seeds.Select(x => Address.Parse(AkkaConfigBuilder.SeedAddress(x, tls is not null))).ToList(),
                rejoinSeeds.Select(x => Address.Parse(AkkaConfigBuilder.SeedAddress(x, tls is not null))).ToList(),
                TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), options.ClusterFormAloneAfter);

        // The first of several static seeds with nothing remembered: instead of Akka's first-seed process, which waits out
        // seed-node-timeout (3 s) when no other seed answers, FirstSeedBootstrap forms the cluster at once when every
        // other seed's host refused the connection (none runs), and otherwise hands the same seeds to Akka.
        FirstSeedBootstrapSettings? firstSeed = null;
        if (!discoverSeeds && formation is null && seeds.Count > 1 && IsSelf(seeds[0]))
        {
            firstSeed = new FirstSeedBootstrapSettings(
                seeds.Select(x => Address.Parse(AkkaConfigBuilder.SeedAddress(x, tls is not null))).ToList(),
                rejoinSeeds.Select(x => Address.Parse(AkkaConfigBuilder.SeedAddress(x, tls is not null))).ToList(),
                TimeSpan.FromSeconds(1));
        }

        var stopped = Task.Delay(Timeout.Infinite, ct);
        var backoff = RejoinBackoff.Default();
        HealthServer? health = null;
        ControlPlane? plane = null;
        AgentObservability? observability = null;
        DateTimeOffset? leftAt = null;
        try
        {
            for (var incarnation = 1; ; incarnation++)
            {
                var startedAt = DateTimeOffset.UtcNow;
                Volatile.Write(ref incarnationNow, incarnation);
                if (incarnation == 1)
                {
                    plane = Step("actor system", () => formation is not null
                        ? ControlPlane.Start(settings, data, incarnation, null, [], null, formation)
                        : firstSeed is not null
                            ? ControlPlane.Start(settings, data, incarnation, null, [], null, firstSeed: firstSeed)
                            : ControlPlane.Start(settings, data, incarnation, null, seeds, null));
                }
                else
                {
                    try
                    {
                        plane = ControlPlane.Start(settings, data, incarnation, leftAt, rejoinSeeds, observability);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // E.g. the port of the previous incarnation not released yet: the data plane runs on; try again.
                        var delay = backoff.Next(TimeSpan.Zero);
                        log.RejoinStartFailed(incarnation, e.Message, delay.TotalSeconds);
                        if (await DelayOrStopped(delay, ct).ConfigureAwait(false)) return Stopped(log);
                        continue;
                    }
                }
                observability = plane.Observability;

                if (health is null && options.HealthzPort != 0)
                {
                    var endpoint = new IPEndPoint(options.HealthzIp, options.HealthzPort);
                    var metrics = observability!.Metrics;
                    health = await HealthServer.StartAsync(endpoint, status, MetricsEndpoints.Routes(metrics), ct).ConfigureAwait(false);
                    log.LogInformation("health endpoints on http://{Endpoint}/healthz and /readyz", endpoint.ToString());
                }

                await Task.WhenAny(stopped, status.Failed, plane.System.WhenTerminated).ConfigureAwait(false);
                var reason = plane.ShutdownReason;
                // SIGTERM may reach Akka's own CLR shutdown hook first: that is a requested stop, not a failure.
                var left = reason is CoordinatedShutdown.ClusterLeavingReason;
                switch (ControlPlaneEndJudge.Decide(ct.IsCancellationRequested, status.Failed.IsCompleted,
                            reason is CoordinatedShutdown.ClrExitReason, left))
                {
                    case ControlPlaneEnd.Stop when left && !ct.IsCancellationRequested:
                        log.LogInformation("flanneld stopping: this node left the cluster on request (cluster leave)");
                        return 0;
                    case ControlPlaneEnd.Stop:
                        return Stopped(log);
                    case ControlPlaneEnd.Fail:
                        log.LogError("flanneld exiting: {Reason}", status.Failed.Result);
                        return 1;
                }

                // Downed, removed or stopped by Akka: the data plane stays as it is; a new incarnation rejoins.
                var now = DateTimeOffset.UtcNow;
                leftAt = now;
                var why = reason?.ToString()?.Replace("Akka.Actor.CoordinatedShutdown+", "", StringComparison.Ordinal) ?? "the actor system stopped";
                var last = status.Current;
                log.ClusterLeft(incarnation, why, last.PeersProgrammed, last.Lease?.Subnet.ToString() ?? "none");
                status.Update(s => s with { Partitioned = $"removed from the cluster ({why}); rejoining" });
                await plane.EndIncarnationAsync($"incarnation {incarnation} ended: {why}").ConfigureAwait(false);
                plane = null;
                var wait = backoff.Next(now - startedAt);
                log.Rejoining(incarnation + 1, wait.TotalSeconds, rejoinSeeds.Count == 0 && !discoverSeeds
                    ? "itself (no other seed)" : discoverSeeds ? "Kubernetes discovery" : string.Join(",", rejoinSeeds));
                if (await DelayOrStopped(wait, ct).ConfigureAwait(false)) return Stopped(log);
            }
        }
        finally
        {
            if (health is not null) await health.DisposeAsync().ConfigureAwait(false);
            if (plane is not null) await plane.DisposeAsync().ConfigureAwait(false);
            // Stopped between incarnations: the command host the last one left open goes too.
            else if (observability?.CommandHost is { } kept) await kept.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// 20 s after a readiness that followed new start-up work (see the caller), the executable's pages that were only
    /// needed to get here go back to the kernel (StartupPages). The wait lets what follows readiness touch its pages
    /// first (nodes starting together join, TLS handshakes with them, the first gossip and replication rounds): released
    /// 5 s after readiness, a 3-node cluster forming at once faulted most of it back in (bench/footprint/RESULTS.md).
    /// </summary>
    private static async Task ReleaseStartupPagesAsync(ILogger log, CancellationToken ct)
    {
        if (await DelayOrStopped(ReleaseStartupPagesAfter, ct).ConfigureAwait(false)) return;
        StartupPagesReleased r;
        try
        {
            r = StartupPages.Release();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No glibc-compatible madvise (the call is fire-and-forget: say so rather than lose the exception).
            log.LogWarning(EventIds.StartupPagesReleaseFailed, "start-up pages not released ({Error})", e.Message);
            return;
        }
        if (r.Error is null)
            log.LogInformation(EventIds.StartupPagesReleased,
                "start-up pages released: {Mappings} mappings of {Executable} ({MappedMiB} MiB mapped), RSS {BeforeMiB:0.0} -> {AfterMiB:0.0} MiB",
                r.Mappings, r.Executable, r.Bytes / 1048576, r.ResidentKiBBefore / 1024.0, r.ResidentKiBAfter / 1024.0);
        else
            log.LogWarning(EventIds.StartupPagesReleaseFailed,
                "start-up pages not released ({Error}); the agent runs on unchanged (--release-startup-pages=false silences this)", r.Error);
    }

    private static readonly TimeSpan ReleaseStartupPagesAfter = TimeSpan.FromSeconds(20);

    private static int Stopped(ILogger log)
    {
        log.LogInformation("flanneld stopping (signal)");
        return 0;
    }

    /// <summary>Waits <paramref name="delay"/>; true when the agent was told to stop meanwhile.</summary>
    private static async Task<bool> DelayOrStopped(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, ct).ConfigureAwait(false);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
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

    /// <summary>
    /// The lease store file holds at least one key (its framing checked, not its content): this node ran in a cluster
    /// before. What the table says (how many members) is read inside the actor system. A missing, empty or unreadable
    /// file is no memory (the store then starts from the cluster's state, and so does formation).
    /// </summary>
    private static bool StoreHoldsEntries(string? path)
    {
        if (path is null || !File.Exists(path)) return false;
        try
        {
            return Flannel.Actors.Leases.Durable.LeaseStoreFormat.Decode(File.ReadAllBytes(path)).Count > 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Flannel.Actors.Leases.Durable.LeaseStoreFormatException)
        {
            return false;
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

    internal static T Step<T>(string what, Func<T> step)
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

    internal sealed class StartupException(string message) : Exception(message);
}
