using Akka.Actor;
using System.Collections.Concurrent;
using System.Net;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Flannel.Actors.Routes;
using Flannel.Net.Config;
using Xunit;
using static Flannel.Actors.Tests.Leases.LeaseFixtures;

namespace Flannel.Actors.Tests.Node;

public sealed class NodeAgentActorTests : TestKit
{
    private readonly FakeBackend _backend = new();
    private readonly RecordingEffects _effects = new();
    private readonly AgentStatus _status = new("a");
    private static readonly NetConf Conf = NetConf.Parse("""{"Network":"10.244.0.0/16"}""");

    private NodeAgentSettings Settings() => new("a", Conf, _backend, _effects,
        new RouteProgrammerSettings("a", TimeSpan.FromMinutes(10), TimeSpan.FromMilliseconds(20)), TimeSpan.FromMinutes(10));

    [Fact]
    public void Start_order_is_lease_then_backend_then_subnet_env_then_masq_then_peers_and_then_ready()
    {
        var leases = CreateTestProbe();
        var node = Sys.ActorOf(NodeAgentActor.Props(Settings(), leases.Ref, _status));
        leases.ExpectMsg<SubscribeLeases>();
        leases.ExpectMsg<AcquireLease>();
        Assert.False(_status.Current.Ready);

        var own = Lease("10.244.7.0/24", "a", "192.0.2.1");
        node.Tell(new LeaseAcquired(own), leases.Ref);
        // The route programmer subscribes only after the node is set up for the lease.
        var routes = leases.ExpectMsg<SubscribeLeases>().Subscriber;
        Assert.Equal(["configure 10.244.0.0/16 10.244.7.0/24"], _backend.Calls.Where(c => c.StartsWith("configure")));
        Assert.Equal(["subnet.env 10.244.7.0/24 mtu 1400", "masq 10.244.7.0/24"], _effects.Calls);
        Assert.False(_status.Current.Ready);

        routes.Tell(Snapshot(own, Lease("10.244.9.0/24", "b", "192.0.2.2")));
        AwaitAssert(() => Assert.True(_status.Current.Ready, string.Join("; ", _status.Current.NotReadyReasons)));
        Assert.Equal(["10.244.9.0/24"], _backend.Kernel.Select(p => p.Subnet.ToString()));
    }

    [Fact]
    public void With_the_api_subnet_the_backend_and_the_peers_come_before_the_lease_and_the_lease_completes_the_set_up()
    {
        var leases = CreateTestProbe();
        var podCidr = IPNetwork.Parse("10.244.7.0/24");
        var node = Sys.ActorOf(NodeAgentActor.Props(Settings() with { ApiSubnet = podCidr }, leases.Ref, _status));
        leases.ExpectMsg<SubscribeLeases>();
        leases.ExpectMsg<AcquireLease>();
        // Restarted in Kubernetes mode: the backend on the Node's podCIDR and the route programmer at once, nothing else
        // (subnet.env already names the podCIDR; the masquerade rules and readiness wait for the cluster's lease).
        var routes = leases.ExpectMsg<SubscribeLeases>().Subscriber;
        Assert.Equal(["configure 10.244.0.0/16 10.244.7.0/24"], _backend.Calls.Where(c => c.StartsWith("configure")));
        Assert.Empty(_effects.Calls);
        Assert.True(_status.Current.BackendConfigured);
        Assert.Null(_status.Current.Lease);
        Assert.False(_status.Current.Ready);

        var own = Lease("10.244.7.0/24", "a", "192.0.2.1");
        node.Tell(new LeaseAcquired(own), leases.Ref);
        AwaitAssert(() => Assert.Equal(["subnet.env 10.244.7.0/24 mtu 1400", "masq 10.244.7.0/24"], _effects.Calls));
        routes.Tell(Snapshot(own, Lease("10.244.9.0/24", "b", "192.0.2.2")) with { Own = own });
        AwaitAssert(() => Assert.True(_status.Current.Ready, string.Join("; ", _status.Current.NotReadyReasons)));
        // One route programmer: the lease did not start a second one.
        leases.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_permanent_lease_failure_fails_the_agent_with_the_reason()
    {
        var leases = CreateTestProbe();
        var node = Sys.ActorOf(NodeAgentActor.Props(Settings(), leases.Ref, _status));
        leases.ExpectMsg<SubscribeLeases>();
        leases.ExpectMsg<AcquireLease>();
        node.Tell(new LeaseAcquireFailed("out of subnets: Network 10.244.0.0/16, SubnetLen 24"));
        var reason = await _status.Failed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Contains("out of subnets", reason);
        Assert.Empty(_effects.Calls);
    }

    [Fact]
    public void A_moved_own_lease_reconfigures_the_backend_and_rewrites_subnet_env()
    {
        var leases = CreateTestProbe();
        var node = Sys.ActorOf(NodeAgentActor.Props(Settings(), leases.Ref, _status));
        leases.ExpectMsg<SubscribeLeases>();
        leases.ExpectMsg<AcquireLease>();
        var first = Lease("10.244.7.0/24", "a", "192.0.2.1");
        node.Tell(new LeaseAcquired(first));
        leases.ExpectMsg<SubscribeLeases>();

        node.Tell(new OwnLeaseChanged(first, Lease("10.244.8.0/24", "a", "192.0.2.1"), "lost a race"));
        AwaitAssert(() => Assert.Contains("subnet.env 10.244.8.0/24 mtu 1400", _effects.Calls));
        Assert.Contains("configure 10.244.0.0/16 10.244.8.0/24", _backend.Calls);
        Assert.Equal("10.244.8.0/24", _status.Current.Lease!.Subnet.ToString());
    }

    [Fact]
    public async Task A_backend_that_cannot_be_configured_fails_the_agent()
    {
        var leases = CreateTestProbe();
        var effects = new RecordingEffects { FailSubnetEnv = true };
        var node = Sys.ActorOf(NodeAgentActor.Props(Settings() with { Effects = effects }, leases.Ref, _status));
        leases.ExpectMsg<SubscribeLeases>();
        leases.ExpectMsg<AcquireLease>();
        node.Tell(new LeaseAcquired(Lease("10.244.7.0/24", "a", "192.0.2.1")));
        var reason = await _status.Failed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Contains("read-only file system", reason);
        Assert.False(_status.Current.SubnetEnvWritten);
    }

    private sealed class RecordingEffects : INodeEffects
    {
        private readonly ConcurrentQueue<string> _calls = new();
        public bool FailSubnetEnv { get; init; }
        public IReadOnlyList<string> Calls => _calls.ToList();

        public void WriteSubnetEnv(NetConf conf, Lease lease, int mtu)
        {
            if (FailSubnetEnv) throw new IOException("/run/flannel/subnet.env: read-only file system");
            _calls.Enqueue($"subnet.env {lease.Subnet} mtu {mtu}");
        }

        public int EnsureMasq(NetConf conf, Lease lease)
        {
            _calls.Enqueue($"masq {lease.Subnet}");
            return 0;
        }
    }
}
