using Flannel.Testing;
using Akka.Actor;
using System.Collections.Concurrent;
using System.Net;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Leases;
using Flannel.Actors.NetConfig;
using Flannel.Actors.Node;
using Flannel.Actors.Observability;
using Flannel.Actors.Routes;
using Flannel.Actors.Tests.Observability;
using Flannel.Net.Backends;
using Flannel.Net.Config;
using Xunit;

namespace Flannel.Actors.Tests.Node;

public sealed class BackendSwitchActorTests : TestKit
{
    private readonly ConcurrentQueue<string> _log = new();
    private const string UdpJson = """{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}""";
    private static readonly NetConf Vxlan = NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""");
    private static readonly NetConf Udp = NetConf.Parse(UdpJson);

    private static Lease Own(string backend) =>
        new(IPNetwork.Parse("10.244.3.0/24"), "a", IPAddress.Parse("192.0.2.1"), backend, null, DateTimeOffset.UtcNow.AddHours(1), 3);

    private sealed class Effects(ConcurrentQueue<string> log) : INodeEffects
    {
        public void WriteSubnetEnv(NetConf conf, Lease lease, int mtu) => log.Enqueue($"subnet.env {lease.Subnet} mtu {mtu}");
        public int EnsureMasq(NetConf conf, Lease lease) => 0;
    }

    private SwitchableBackend VxlanRunning()
    {
        var backend = new SwitchableBackend(new TypedFakeBackend("vxlan", 1450, _log, "{\"VNI\":1}"));
        backend.Configure(IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("10.244.3.0/24"));
        return backend;
    }

    [Fact]
    public void The_switcher_replaces_the_backend_readvertises_the_lease_and_answers_once_touching_nothing_else()
    {
        var backend = VxlanRunning();
        var leases = CreateTestProbe();
        var switcher = Sys.ActorOf(BackendSwitchActor.Props(backend, c => new TypedFakeBackend(c.Type, 1472, _log), leases.Ref));

        var apply = new ApplyClusterNetConf(new VersionedNetConf(2, UdpJson, "test", DateTimeOffset.UtcNow), Udp, Vxlan);
        switcher.Tell(apply);

        var update = leases.ExpectMsg<UpdateBackend>();
        Assert.Equal(("udp", (string?)null), (update.BackendType, update.BackendData));
        leases.Reply(new BackendUpdated(Own("udp")));

        var done = ExpectMsg<BackendSwitched>();
        Assert.Equal((apply, "udp", 1472, Own("udp").Subnet, (string?)null), (done.Apply, done.BackendType, done.Mtu, done.Lease?.Subnet, done.Error));
        // subnet.env and the status are the node agent's: the switcher only swapped the data plane.
        Assert.Equal(["vxlan configure 10.244.3.0/24", "vxlan teardown", "udp prepare", "udp configure 10.244.3.0/24", "vxlan dispose"], _log);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_backend_that_cannot_start_is_reported_and_the_old_one_keeps_running()
    {
        var backend = new SwitchableBackend(new TypedFakeBackend("vxlan", 1450, _log));
        backend.Configure(IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("10.244.3.0/24"));
        var leases = CreateTestProbe();
        var switcher = Sys.ActorOf(BackendSwitchActor.Props(backend,
            c => new TypedFakeBackend(c.Type, 1500, _log) { FailPrepare = new InvalidOperationException("public IP not on eth0") },
            leases.Ref));

        switcher.Tell(new ApplyClusterNetConf(new VersionedNetConf(3, "{}", "test", DateTimeOffset.UtcNow),
            NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}"""), Vxlan));
        var done = ExpectMsg<BackendSwitched>();
        Assert.Contains("public IP not on eth0", done.Error);
        Assert.False(done.BackendReplaced);
        Assert.Equal("vxlan", done.BackendType);
        Assert.Equal("vxlan", backend.Type);
        leases.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Through_the_node_agent_a_switch_rewrites_subnet_env_reconciles_answers_and_counts_once()
    {
        using var metrics = new MeasurementRecorder(FlannelInstruments.BackendSwitches, FlannelInstruments.BackendSwitchSeconds);
        var backend = VxlanRunning();
        var status = new AgentStatus("a");
        var leases = CreateTestProbe();
        var switcher = Sys.ActorOf(BackendSwitchActor.Props(backend, c => new TypedFakeBackend(c.Type, 1472, _log), leases.Ref));
        var settings = new NodeAgentSettings("a", Vxlan, backend, new Effects(_log),
            new RouteProgrammerSettings("a", TimeSpan.FromMinutes(10), TimeSpan.FromMilliseconds(20)), TimeSpan.FromMinutes(10));
        var node = Sys.ActorOf(NodeAgentActor.Props(settings, leases.Ref, status, switcher));
        leases.ExpectMsg<SubscribeLeases>();
        leases.ExpectMsg<AcquireLease>();
        node.Tell(new LeaseAcquired(Own("vxlan")), leases.Ref);
        var routes = leases.ExpectMsg<SubscribeLeases>().Subscriber;
        routes.Tell(new LeaseSnapshot(System.Collections.Immutable.ImmutableDictionary<IPNetwork, Lease>.Empty, Own("vxlan")));
        AwaitAssert(() => Assert.True(status.Current.PeersInSync));
        while (_log.TryDequeue(out _)) { }

        node.Tell(new ApplyClusterNetConf(new VersionedNetConf(2, UdpJson, "test", DateTimeOffset.UtcNow), Udp, Vxlan));
        leases.ExpectMsg<UpdateBackend>();
        leases.Reply(new BackendUpdated(Own("udp")));

        var done = ExpectMsg<ClusterNetConfApplied>();
        Assert.Null(done.Error);
        Assert.Equal((2L, "udp"), (done.Version, done.BackendType));
        Assert.Equal(["vxlan teardown", "udp prepare", "udp configure 10.244.3.0/24", "vxlan dispose", "subnet.env 10.244.3.0/24 mtu 1472",
            "udp reconcile 0"], _log);
        Assert.Equal(("udp", "udp", true), (status.Current.BackendType, status.Current.Lease?.BackendType, status.Current.BackendConfigured));

        // One switch: one count and one duration, both labelled from -> to.
        var switches = metrics.Of(FlannelInstruments.BackendSwitches);
        var durations = metrics.Of(FlannelInstruments.BackendSwitchSeconds);
        Assert.Equal([1.0], switches.Select(m => m.Value));
        Assert.Single(durations);
        Assert.All(switches.Concat(durations), m => Assert.Equal(("vxlan", "udp"), (m.Tags["from"], m.Tags["to"])));
    }

    [Fact]
    public void A_switch_before_the_first_lease_leaves_subnet_env_to_the_start_sequence_which_sets_up_the_new_backend()
    {
        var backend = new SwitchableBackend(new TypedFakeBackend("vxlan", 1450, _log, "{\"VNI\":1}"));
        var status = new AgentStatus("a");
        var leases = CreateTestProbe();
        var switcher = Sys.ActorOf(BackendSwitchActor.Props(backend, c => new TypedFakeBackend(c.Type, 1472, _log), leases.Ref));
        var settings = new NodeAgentSettings("a", Vxlan, backend, new Effects(_log),
            new RouteProgrammerSettings("a", TimeSpan.FromMinutes(10), TimeSpan.FromMilliseconds(20)), TimeSpan.FromMinutes(10));
        var node = Sys.ActorOf(NodeAgentActor.Props(settings, leases.Ref, status, switcher));
        leases.ExpectMsg<SubscribeLeases>();
        leases.ExpectMsg<AcquireLease>();

        node.Tell(new ApplyClusterNetConf(new VersionedNetConf(2, UdpJson, "test", DateTimeOffset.UtcNow), Udp, Vxlan));
        leases.ExpectMsg<UpdateBackend>();
        leases.Reply(new BackendUpdated(Own("udp")));
        Assert.Null(ExpectMsg<ClusterNetConfApplied>().Error);
        Assert.DoesNotContain(_log, l => l.StartsWith("subnet.env"));
        Assert.False(status.Current.BackendConfigured);

        // The lease arrives: the start sequence configures the backend now running and writes its MTU.
        node.Tell(new LeaseAcquired(Own("udp")), leases.Ref);
        leases.ExpectMsg<SubscribeLeases>();
        Assert.Equal(["udp configure 10.244.3.0/24", "subnet.env 10.244.3.0/24 mtu 1472"],
            _log.Where(l => l.StartsWith("udp configure") || l.StartsWith("subnet.env")));
        Assert.True(status.Current.BackendConfigured);
    }
}
