using System.Net;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Flannel.Actors.Leases;
using Flannel.Actors.NetConfig;
using Flannel.Actors.Node;
using Flannel.Actors.Observability;
using Flannel.Actors.Routes;
using Flannel.Actors.Tunnel;
using Flannel.Actors.Cmd;
using Flannel.Host.Ctl;
using Flannel.Host.Health;
using Flannel.Host.Hosting;
using Flannel.Host.Logging;
using Flannel.Host.Metrics;
using Flannel.Host.Options;
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
        log.LogInformation("flanneld {Version} starting as node {Node}", Program.Version, options.NodeName);
        if (options.KubeSubnetMgr)
            throw new StartupException("--kube-subnet-mgr: this flanneld forms its cluster from --cluster-seeds; the Kubernetes subnet manager is not wired into the agent");

        var iface = Step("--iface", () => new InterfaceSelector().Select(options.InterfaceSelection));
        log.LogInformation("using interface {Interface}", iface.ToString());

        var (conf, confJson) = ReadNetConf(options.NetConfigPath);
        if (conf.Network is null)
            throw new StartupException($"{NetConf.FileName}: Network is required (IPv6-only networks are not supported by this agent)");
        log.LogInformation("net-conf: Network {Network}, SubnetLen {SubnetLen}, backend {Backend}", conf.Network, conf.SubnetLen, conf.Backend.Type);

        var previous = PreviousSubnet(options.SubnetFile, log);

        using var backend = Step("backend", () =>
        {
            var b = BackendFactory.Create(conf.Backend, iface);
            b.Prepare();
            return b;
        });
        log.LogInformation("backend {Backend} prepared (mtu {Mtu})", backend.Type, backend.Mtu);

        var clusterHost = options.ClusterHostname ?? iface.Address.ToString();
        // A node that is its own only seed forms the cluster at once instead of waiting out seed-node-timeout.
        var seeds = options.ClusterSeeds
            .Where(s => !(s.Port == options.ClusterPort && (s.Host == clusterHost || s.Host == iface.Address.ToString())))
            .ToList();
        var akkaConfig = Step("--hocon-file", () =>
            AkkaConfigBuilder.Build(clusterHost, options.ClusterPort, seeds, options.HoconFile));
        var setup = BootstrapSetup.Create().WithConfig(AkkaLogging.Config(options.LogLevel).WithFallback(akkaConfig))
            .And(new FlannelLoggingSetup(loggerFactory));
        var system = ActorSystem.Create(AkkaConfigBuilder.SystemName, setup);
        var status = new AgentStatus(options.NodeName);
        status.Update(s => s with { PublicIp = iface.PublicIp.ToString(), BackendType = backend.Type, BackendPrepared = true });
        HealthServer? health = null;
        AgentObservability? observability = null;
        try
        {
            var cluster = Cluster.Get(system);
            if (seeds.Count == 0 && cluster.Settings.SeedNodes.Count == 0)
            {
                log.LogInformation("no other seed node: forming the cluster at {Address}", cluster.SelfAddress);
                cluster.Join(cluster.SelfAddress);
            }
            else
            {
                log.LogInformation("joining the cluster through {Seeds}", string.Join(",", cluster.Settings.SeedNodes));
            }

            var leaseOptions = new LeaseOptions(options.NodeName, iface.PublicIp, conf, backend.Type, backend.LeaseData,
                previous, null, LeaseOptions.DefaultTtl, options.SubnetLeaseRenewMargin);
            var leases = system.ActorOf(SubnetLeaseActor.Props(leaseOptions), "leases");
            var netConf = system.ActorOf(NetConfActor.Props(conf, confJson, options.NetConfigPath), "config");
            var masq = MasqManager.Create(
                new MasqOptions(options.IpMasq, options.IptablesForwardRules, !options.IpMasqFullyRandomDisable), options.UseNftables);
            var settings = new NodeAgentSettings(
                options.NodeName, conf, backend,
                new NodeEffects(options.SubnetFile, options.IpMasq, options.IpMasq || options.IptablesForwardRules ? masq : null),
                new RouteProgrammerSettings(options.NodeName, RouteProgrammerSettings.DefaultPeriod,
                    RouteProgrammerSettings.DefaultDebounce, KernelWatch.Netlink),
                options.IptablesResync);
            var node = system.ActorOf(NodeAgentActor.Props(settings, leases, status), "node");
            if (backend is UdpBackend udp)
                system.ActorOf(UdpTunnelActor.Props(UdpTunnelProbe.For(() => (udp.DataPath as UdpTunnelDataPath)?.Tunnel), status,
                    TimeSpan.FromSeconds(5)), "tunnel");

            var cmd = AgentCmdContext.Create(options.NodeName, leases, node, netConf, backend, status, level);
            observability = Step("--cmd-port", () => AgentObservability.Start(system, cmd, options.CmdPort));

            if (options.HealthzPort != 0)
            {
                var endpoint = new IPEndPoint(options.HealthzIp, options.HealthzPort);
                var metrics = observability.Metrics;
                health = await HealthServer.StartAsync(endpoint, status, () => View(status, cluster, backend),
                    app => app.MapFlannelMetrics(metrics), ct).ConfigureAwait(false);
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
            if (health is not null) await health.DisposeAsync().ConfigureAwait(false);
            if (observability is not null) await observability.DisposeAsync().ConfigureAwait(false);
            // Leave the cluster gracefully: the lease stays until it expires, so a restart gets the same subnet.
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
            await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        }
    }

    private static StatusView View(AgentStatus status, Cluster cluster, IBackend backend)
    {
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var members = state.Members
            .Select(m => new MemberView(m.Address.ToString(), m.Status.ToString(), !unreachable.Contains(m.Address),
                m.Address.Equals(state.Leader)))
            .ToList();
        IReadOnlyDictionary<string, long>? drops = null;
        if (backend is UdpBackend { DataPath: UdpTunnelDataPath dp })
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
        try
        {
            return (NetConf.Parse(json), json);
        }
        catch (NetConfException e)
        {
            throw new StartupException($"{path}: {e.Message}");
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

    private sealed class StartupException(string message) : Exception(message);
}
