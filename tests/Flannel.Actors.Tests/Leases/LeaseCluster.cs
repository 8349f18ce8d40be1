using Flannel.Testing;
using System.Net;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote;
using Akka.Remote.Transport;
using Flannel.Actors.Leases;
using Flannel.Actors.Observability;
using Flannel.Net.Config;
using Microsoft.Extensions.Logging;

namespace Flannel.Actors.Tests.Leases;

/// <summary>One in-process cluster node: its ActorSystem and its SubnetLeaseActor.</summary>
public sealed record LeaseNode(int Index, string Name, IPAddress PublicIp, ActorSystem System, IActorRef Leases)
{
    public Address Address => Cluster.Get(System).SelfAddress;
    public bool IsTerminated => System.WhenTerminated.IsCompleted;
}

/// <summary>
/// In-process clusters on 127.0.0.1 (port 0) with fast gossip/failure-detector/DData timings and Akka.Remote's
/// throttler adapter (trttl) applied, so tests can black-hole traffic between groups of nodes.
/// </summary>
public sealed class LeaseCluster : IAsyncDisposable
{
    public const string SystemName = "flannel";

    public static Config NodeConfig(TimeSpan? stableAfter = null) => ConfigurationFactory.ParseString($$"""
        akka {
          loglevel = ERROR
          stdout-loglevel = ERROR
          actor.provider = cluster
          remote.dot-netty.tcp {
            hostname = 127.0.0.1
            port = 0
            applied-adapters = [trttl]
          }
          cluster {
            gossip-interval = 200ms
            leader-actions-interval = 200ms
            unreachable-nodes-reaper-interval = 250ms
            periodic-tasks-initial-delay = 100ms
            failure-detector {
              heartbeat-interval = 250ms
              acceptable-heartbeat-pause = 3s
              expected-response-after = 500ms
            }
            downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
            split-brain-resolver {
              active-strategy = keep-majority
              stable-after = {{(int)(stableAfter ?? TimeSpan.FromSeconds(60)).TotalMilliseconds}}ms
            }
            run-coordinated-shutdown-when-down = on
            distributed-data {
              gossip-interval = 200ms
              notify-subscribers-interval = 50ms
            }
            singleton.hand-over-retry-interval = 200ms
            singleton-proxy.singleton-identification-interval = 200ms
          }
          coordinated-shutdown {
            run-by-clr-shutdown-hook = off
            # Disposal just stops the systems; graceful leaving (StopAsync) runs CoordinatedShutdown explicitly.
            run-by-actor-system-terminate = off
            phases.cluster-exiting.timeout = 3s
          }
        }
        flannel.leases {
          majority-timeout = 1s
          gc-interval = 300ms
        }
        """).WithFallback(LeaseConfig.Default);

    public static NetConf DefaultConf { get; } = NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""");

    private readonly Config _config;
    private readonly NetConf _conf;
    private readonly TimeSpan _ttl;
    private readonly TimeSpan _renewMargin;
    private readonly INodeCidrAuthority? _nodeCidrs;
    private readonly ILoggerFactory? _loggers;
    private readonly List<LeaseNode> _all = [];
    private readonly Func<int, string>? _nodeHocon;

    /// <param name="nodeCidrs">Kubernetes mode: every node's allocator consults it (null: outside Kubernetes).</param>
    /// <param name="loggers">Receives every node's flannel events (FlannelLoggingSetup).</param>
    /// <param name="nodeHocon">HOCON for node i only, above the common config (e.g. its own lease store file).</param>
    public LeaseCluster(NetConf? conf = null, TimeSpan? ttl = null, TimeSpan? renewMargin = null, TimeSpan? stableAfter = null,
        INodeCidrAuthority? nodeCidrs = null, ILoggerFactory? loggers = null, string? extraConfig = null,
        Func<int, string>? nodeHocon = null)
    {
        _nodeHocon = nodeHocon;
        _conf = conf ?? DefaultConf;
        _ttl = ttl ?? LeaseOptions.DefaultTtl;
        _renewMargin = renewMargin ?? LeaseOptions.DefaultRenewMargin;
        _config = extraConfig is null ? NodeConfig(stableAfter) : ConfigurationFactory.ParseString(extraConfig).WithFallback(NodeConfig(stableAfter));
        _nodeCidrs = nodeCidrs;
        _loggers = loggers;
    }

    /// <summary>The ActorSystemSetup every node starts with (the allocator's accepted net-conf and authority).</summary>
    public ActorSystemSetup Setup()
    {
        var setup = BootstrapSetup.Create().WithConfig(_config).And(new LeaseAllocatorSetup(_conf, _nodeCidrs));
        return _loggers is null ? setup : setup.And(new FlannelLoggingSetup(_loggers));
    }

    /// <summary>Live nodes by index (a restarted node replaces the earlier one with the same index).</summary>
    public IReadOnlyList<LeaseNode> Nodes => _all.GroupBy(n => n.Index).Select(g => g.Last()).OrderBy(n => n.Index).ToList();

    public LeaseNode this[int index] => Nodes.Single(n => n.Index == index);

    public static string NodeName(int index) => $"node-{index}";

    public static IPAddress PublicIp(int index) => IPAddress.Parse($"192.0.2.{index + 1}");

    /// <summary>Starts <paramref name="count"/> nodes; node 0 (the oldest, so the allocator's host) seeds the rest.
    /// <paramref name="podCidr"/> gives each node's RequiredSubnet (Kubernetes mode).</summary>
    public async Task StartAsync(int count, Func<int, IPNetwork?>? podCidr = null)
    {
        var first = Start(0, seed: null, requiredSubnet: podCidr?.Invoke(0));
        for (var i = 1; i < count; i++) Start(i, first.Address, requiredSubnet: podCidr?.Invoke(i));
        await WaitUpAsync(count, TimeSpan.FromSeconds(20));
    }

    /// <summary>Starts (or restarts, after its old system terminated) node <paramref name="index"/> and joins it to
    /// <paramref name="seed"/> (itself when null).</summary>
    /// <param name="port">A fixed remoting port (to restart a node at the same address); default: any free one.</param>
    public LeaseNode Start(int index, Address? seed, IPNetwork? previousSubnet = null, IPNetwork? requiredSubnet = null, int? port = null)
    {
        var setup = Setup();
        // Per node: a fixed port, and whatever nodeHocon gives this index (e.g. its own lease store file).
        var own = (port is { } p ? $"akka.remote.dot-netty.tcp.port = {p}\n" : "") + (_nodeHocon?.Invoke(index) ?? "");
        if (own.Length > 0)
            setup = setup.And(BootstrapSetup.Create().WithConfig(ConfigurationFactory.ParseString(own).WithFallback(_config)));
        var system = ActorSystem.Create(SystemName, setup);
        var cluster = Cluster.Get(system);
        cluster.Join(seed ?? cluster.SelfAddress);
        var options = new LeaseOptions(NodeName(index), PublicIp(index), _conf, "vxlan", $$"""{"VNI":1,"VtepMAC":"02:00:00:00:00:{{index:x2}}"}""",
            previousSubnet, requiredSubnet, _ttl, _renewMargin)
        {
            RetryInterval = TimeSpan.FromMilliseconds(300),
            RequestTimeout = TimeSpan.FromSeconds(3),
        };
        var leases = system.ActorOf(SubnetLeaseActor.Props(options), "subnet-lease");
        var node = new LeaseNode(index, NodeName(index), PublicIp(index), system, leases);
        _all.Add(node);
        return node;
    }

    public async Task WaitUpAsync(int count, TimeSpan timeout)
    {
        await Poll.UntilAsync(() => Nodes.Where(n => !n.IsTerminated).All(n =>
            Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up) == count), timeout, $"{count} members Up");
    }

    /// <summary>Black-holes (or, with <paramref name="heal"/>, restores) all traffic between the two groups.</summary>
    public static async Task Partition(IEnumerable<LeaseNode> a, IEnumerable<LeaseNode> b, bool heal = false)
    {
        var left = a.ToList();
        var right = b.ToList();
        ThrottleMode mode = heal ? Unthrottled.Instance : Blackhole.Instance;
        foreach (var x in left)
        foreach (var y in right)
        {
            await Transport(x).ManagementCommand(new SetThrottle(y.Address, ThrottleTransportAdapter.Direction.Both, mode));
            await Transport(y).ManagementCommand(new SetThrottle(x.Address, ThrottleTransportAdapter.Direction.Both, mode));
        }
    }

    private static RemoteTransport Transport(LeaseNode node) =>
        ((IRemoteActorRefProvider)((ExtendedActorSystem)node.System).Provider).Transport;

    public static async Task<object> Ask(LeaseNode node, object message, TimeSpan? timeout = null) =>
        await node.Leases.Ask<object>(message, timeout ?? TimeSpan.FromSeconds(15));

    public static async Task<Lease> AcquireAsync(LeaseNode node) =>
        await Ask(node, AcquireLease.Instance) switch
        {
            LeaseAcquired a => a.Lease,
            var other => throw new InvalidOperationException($"{node.Name}: expected LeaseAcquired, got {other}"),
        };

    public static async Task<IReadOnlyDictionary<IPNetwork, Lease>> TableAsync(LeaseNode node) =>
        ((LeaseSnapshot)await Ask(node, GetLeases.Instance)).Leases.ToDictionary();

    /// <summary>The lease table as a majority has it (what the allocator's next round would read).</summary>
    public static async Task<IReadOnlyDictionary<IPNetwork, Lease>> MajorityTableAsync(LeaseNode node)
    {
        var ext = LeaseAllocatorExtension.Get(node.System);
        var reply = await ext.Replicator.Ask<object>(Akka.DistributedData.Dsl.Get(ext.Key,
            new Akka.DistributedData.ReadMajority(TimeSpan.FromSeconds(3))), TimeSpan.FromSeconds(10));
        return reply switch
        {
            Akka.DistributedData.GetSuccess g => g.Get(ext.Key).Entries.Values.ToDictionary(l => l.Subnet),
            Akka.DistributedData.NotFound => new Dictionary<IPNetwork, Lease>(),
            _ => throw new InvalidOperationException($"{node.Name}: majority read failed: {reply}"),
        };
    }

    /// <summary>Sends a raw allocator request from <paramref name="node"/>'s system, as a member could without its
    /// SubnetLeaseActor (the sender is a temporary actor on that node, so the allocator sees that node's address).</summary>
    public static async Task<object> AllocatorAsk(LeaseNode node, object request) =>
        await LeaseAllocatorExtension.Get(node.System).Proxy.Ask<object>(request, TimeSpan.FromSeconds(15));

    /// <summary>A TCP port that was free a moment ago (to restart a node at a fixed address).</summary>
    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Leaves the cluster gracefully and terminates the node's system.</summary>
    public static async Task StopAsync(LeaseNode node)
    {
        await CoordinatedShutdown.Get(node.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        await node.System.WhenTerminated;
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_all.Select(n => n.System.Terminate()));
    }
}
