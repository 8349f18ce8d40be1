using Flannel.Testing;
using Akka.Actor;
using System.Collections.Concurrent;
using System.Net;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Leases;
using Flannel.Actors.NetConfig;
using Flannel.Actors.Node;
using Flannel.Actors.Routes;
using Flannel.Net.Backends;
using Flannel.Net.Config;
using Xunit;

namespace Flannel.Actors.Tests.Node;

public sealed class BackendSwitchActorTests : TestKit
{
    private readonly ConcurrentQueue<string> _log = new();
    private static readonly NetConf Vxlan = NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}""");
    private static readonly NetConf Udp = NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}""");

    private sealed class Effects(ConcurrentQueue<string> log) : INodeEffects
    {
        public void WriteSubnetEnv(NetConf conf, Lease lease, int mtu) => log.Enqueue($"subnet.env {lease.Subnet} mtu {mtu}");
        public int EnsureMasq(NetConf conf, Lease lease) => 0;
    }

    [Fact]
    public void A_switch_replaces_the_backend_readvertises_the_lease_rewrites_subnet_env_and_reconciles()
    {
        var backend = new SwitchableBackend(new TypedFakeBackend("vxlan", 1450, _log, "{\"VNI\":1}"));
        backend.Configure(IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("10.244.3.0/24"));
        var status = new AgentStatus("a");
        var leases = CreateTestProbe();
        var node = CreateTestProbe();
        var routes = CreateTestProbe();
        var switcher = Sys.ActorOf(BackendSwitchActor.Props(backend, c => new TypedFakeBackend(c.Type, 1472, _log), leases.Ref, node.Ref,
            status, new Effects(_log)));

        var config = new VersionedNetConf(2, """{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}""", "test", DateTimeOffset.UtcNow);
        switcher.Tell(new ApplyClusterNetConf(config, Udp, Vxlan));

        var update = leases.ExpectMsg<UpdateBackend>();
        Assert.Equal(("udp", (string?)null), (update.BackendType, update.BackendData));
        var lease = new Lease(IPNetwork.Parse("10.244.3.0/24"), "a", IPAddress.Parse("192.0.2.1"), "udp", null, DateTimeOffset.UtcNow.AddHours(1), 3);
        leases.Reply(new BackendUpdated(lease));
        node.ExpectMsg<GetRouteProgrammer>();
        node.Reply(new RouteProgrammerRef(routes.Ref));
        routes.ExpectMsg<ReconcileNow>();
        routes.Reply(new ReconcileCompleted([], ReconcileReport.Empty, "requested"));

        var done = ExpectMsg<ClusterNetConfApplied>();
        Assert.Null(done.Error);
        Assert.Equal((2L, "udp"), (done.Version, done.BackendType));
        Assert.Equal(["vxlan configure 10.244.3.0/24", "vxlan teardown", "udp prepare", "udp configure 10.244.3.0/24", "vxlan dispose",
            "subnet.env 10.244.3.0/24 mtu 1472"], _log);
        Assert.Equal(("udp", "udp"), (status.Current.BackendType, status.Current.Lease?.BackendType));
    }

    [Fact]
    public void A_backend_that_cannot_start_is_reported_and_the_old_one_keeps_running()
    {
        var backend = new SwitchableBackend(new TypedFakeBackend("vxlan", 1450, _log));
        backend.Configure(IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("10.244.3.0/24"));
        var leases = CreateTestProbe();
        var switcher = Sys.ActorOf(BackendSwitchActor.Props(backend,
            c => new TypedFakeBackend(c.Type, 1500, _log) { FailPrepare = new InvalidOperationException("public IP not on eth0") },
            leases.Ref, CreateTestProbe().Ref, new AgentStatus("a"), new Effects(_log)));

        switcher.Tell(new ApplyClusterNetConf(new VersionedNetConf(3, "{}", "test", DateTimeOffset.UtcNow),
            NetConf.Parse("""{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}"""), Vxlan));
        var done = ExpectMsg<ClusterNetConfApplied>();
        Assert.Contains("public IP not on eth0", done.Error);
        Assert.Equal("vxlan", done.BackendType);
        Assert.Equal("vxlan", backend.Type);
        leases.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }
}
