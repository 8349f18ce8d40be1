using System.Net;
using System.Reflection;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using Flannel.Actors.Leases;
using Flannel.Actors.Observability;
using Flannel.Host.Hosting;
using Flannel.Host.Security;
using Flannel.Net.Config;
using Flannel.Testing;

namespace Flannel.Host.Tests.Security;

/// <summary>One in-process node: its system, its log and (for members) its SubnetLeaseActor.</summary>
public sealed record TlsNode(string Name, ActorSystem System, RecordingLoggerFactory Log, IActorRef? Leases)
{
    public Cluster Cluster => Cluster.Get(System);
    public Address Address => Cluster.SelfAddress;
    public int UpMembers => Cluster.State.Members.Count(m => m.Status == MemberStatus.Up);
}

/// <summary>
/// In-process flannel nodes on 127.0.0.1 built from the agent's own configuration (AkkaConfigBuilder with the bundled
/// hocon/ and the wire lock) with faster gossip, with or without the cluster TLS of a credential directory.
/// </summary>
public sealed class TlsCluster : IAsyncDisposable
{
    private static readonly Config Fast = ConfigurationFactory.ParseString("""
        akka {
          loglevel = WARNING
          stdout-loglevel = OFF
          cluster {
            gossip-interval = 200ms
            leader-actions-interval = 200ms
            periodic-tasks-initial-delay = 100ms
            seed-node-timeout = 1s
            retry-unsuccessful-join-after = 1s
            singleton.hand-over-retry-interval = 200ms
            singleton-proxy.singleton-identification-interval = 200ms
            distributed-data.gossip-interval = 200ms
          }
          coordinated-shutdown.run-by-clr-shutdown-hook = off
        }
        flannel.leases.majority-timeout = 1s
        """);

    public static NetConf Conf { get; } = NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""");

    private readonly List<TlsNode> _nodes = [];

    /// <summary>
    /// Starts a node. <paramref name="tls"/> null = plain text; <paramref name="suppressValidation"/> = a TLS node that
    /// accepts any server certificate (a stranger that gets as far as showing its own certificate).
    /// <paramref name="leases"/> = run a SubnetLeaseActor as the agent does.
    /// </summary>
    public TlsNode Start(string name, ClusterTls? tls, bool leases = false, bool suppressValidation = false)
    {
        var log = new RecordingLoggerFactory();
        var config = Fast.WithFallback(AkkaConfigBuilder.Build("127.0.0.1", 0, [], null, tls: tls is not null));
        var setup = BootstrapSetup.Create().WithConfig(config).And(new FlannelLoggingSetup(log)).And(new LeaseAllocatorSetup(Conf));
        // Every refusal logged: all peers here are 127.0.0.1, which the agent's throttle would count as one host.
        var throttle = new RefusalThrottle(TimeSpan.Zero);
        if (tls is not null)
            setup = setup.And(suppressValidation
                ? new DotNettySslSetup(tls.Certificate, suppressValidation: true, requireMutualAuthentication: true)
                : tls.SslSetup(log.CreateLogger("Flannel.Security"), throttle));
        var system = ActorSystem.Create(AkkaConfigBuilder.SystemName, setup);
        if (tls is not null) system.ActorOf(HandshakeRefusalWatcher.Props(throttle), HandshakeRefusalWatcher.Name);
        IActorRef? leaseActor = null;
        if (leases)
        {
            var index = _nodes.Count + 1;
            var options = new LeaseOptions(name, IPAddress.Parse($"192.0.2.{index}"), Conf, "vxlan", null, null, null,
                LeaseOptions.DefaultTtl, LeaseOptions.DefaultRenewMargin) { RetryInterval = TimeSpan.FromMilliseconds(300) };
            leaseActor = system.ActorOf(Actors.Leases.SubnetLeaseActor.Props(options), "leases");
        }
        var node = new TlsNode(name, system, log, leaseActor);
        _nodes.Add(node);
        return node;
    }

    public static async Task<Lease> AcquireAsync(TlsNode node) =>
        await node.Leases!.Ask<object>(AcquireLease.Instance, TimeSpan.FromSeconds(20)) switch
        {
            LeaseAcquired a => a.Lease,
            var other => throw new InvalidOperationException($"{node.Name}: expected LeaseAcquired, got {other}"),
        };

    public static async Task<IReadOnlyDictionary<IPNetwork, Lease>> TableAsync(TlsNode node) =>
        (await node.Leases!.Ask<LeaseSnapshot>(GetLeases.Instance, TimeSpan.FromSeconds(10))).Leases.ToDictionary();

    /// <summary>
    /// The allocator protocol's messages as a peer would send them (internal types of Flannel.Actors: built by
    /// reflection, exactly what LeaseSerializer would decode from the wire).
    /// </summary>
    public static object ClaimRequest(string node, IPNetwork? required) => Create("ClaimRequest", 424242L,
        new LeaseClaim(node, IPAddress.Parse("192.0.2.99"), "vxlan", null, null, required, Conf, TimeSpan.FromHours(24)));

    /// <summary>The strongest release there is: an operator's, forced.</summary>
    public static object ReleaseRequest(IPNetwork subnet) =>
        Create("ReleaseRequest", 424243L, subnet, ReleaseKind.Operator, true, "evil", "ctl");

    private static object Create(string type, params object?[] args)
    {
        var t = typeof(LeaseClaim).Assembly.GetType($"Flannel.Actors.Leases.{type}", throwOnError: true)!;
        var ctor = t.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
                       .SingleOrDefault(c => c.GetParameters().Select(p => p.ParameterType).SequenceEqual(args.Select(a => a!.GetType())))
                   ?? throw new InvalidOperationException($"{type}'s constructor changed: update the test's stranger messages");
        return ctor.Invoke(args);
    }

    public async ValueTask DisposeAsync() => await Task.WhenAll(_nodes.Select(n => n.System.Terminate()));
}
