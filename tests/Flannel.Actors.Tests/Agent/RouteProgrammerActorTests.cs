using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Flannel.Actors.Routes;
using Flannel.Net.Backends;
using Xunit;
using static Flannel.Actors.Tests.Agent.LeaseFixtures;

namespace Flannel.Actors.Tests.Agent;

public sealed class RouteProgrammerActorTests : TestKit
{
    private readonly FakeBackend _backend = new();
    private readonly AgentStatus _status = new("a");
    private Action? _kernelChanged;

    private IActorRef Start(Akka.TestKit.TestProbe leases, TimeSpan? period = null)
    {
        _status.Update(s => s with { Lease = Lease("10.244.1.0/24", "a", "192.0.2.1") });
        var settings = new RouteProgrammerSettings("a", period ?? TimeSpan.FromMinutes(10), TimeSpan.FromMilliseconds(20), cb =>
        {
            _kernelChanged = cb;
            return new Subscription();
        });
        var actor = Sys.ActorOf(RouteProgrammerActor.Props(leases.Ref, _backend, settings, _status));
        Assert.Equal(actor, leases.ExpectMsg<SubscribeLeases>().Subscriber);
        return actor;
    }

    [Fact]
    public void Programs_every_other_nodes_lease_and_reports_the_peers_in_sync()
    {
        var leases = CreateTestProbe();
        var actor = Start(leases);
        actor.Tell(Snapshot(Lease("10.244.1.0/24", "a", "192.0.2.1"), Lease("10.244.2.0/24", "b", "192.0.2.2"),
            Lease("10.244.3.0/24", "c", "192.0.2.3")));

        AwaitAssert(() => Assert.True(_status.Current.PeersInSync));
        Assert.Equal(["10.244.2.0/24", "10.244.3.0/24"], _backend.Kernel.Select(p => p.Subnet.ToString()).Order());
        Assert.Equal(2, _status.Current.PeersProgrammed);
        Assert.Equal(0, _status.Current.DriftRepairs);
    }

    [Fact]
    public void Nothing_is_reconciled_before_the_first_lease_table_arrives()
    {
        var leases = CreateTestProbe();
        Start(leases, period: TimeSpan.FromMilliseconds(50));
        _kernelChanged!();
        ExpectNoMsg(TimeSpan.FromMilliseconds(400));
        Assert.Equal(0, _backend.ReconcileCount);
        Assert.False(_status.Current.PeersInSync);
    }

    [Fact]
    public void A_kernel_change_triggers_a_pass_that_repairs_the_drift_and_counts_it()
    {
        var leases = CreateTestProbe();
        var actor = Start(leases);
        actor.Tell(Snapshot(Lease("10.244.2.0/24", "b", "192.0.2.2")));
        AwaitAssert(() => Assert.True(_status.Current.PeersInSync));

        _backend.Forget(IPNetwork.Parse("10.244.2.0/24"));
        _kernelChanged!();

        AwaitAssert(() => Assert.Equal(1, _status.Current.DriftRepairs));
        Assert.Single(_backend.Kernel);
    }

    [Fact]
    public void The_periodic_pass_repairs_drift_without_any_notification()
    {
        var leases = CreateTestProbe();
        var actor = Start(leases, period: TimeSpan.FromMilliseconds(100));
        actor.Tell(Snapshot(Lease("10.244.2.0/24", "b", "192.0.2.2")));
        AwaitAssert(() => Assert.True(_status.Current.PeersInSync));
        _backend.Forget(IPNetwork.Parse("10.244.2.0/24"));
        AwaitAssert(() => Assert.Single(_backend.Kernel), TimeSpan.FromSeconds(3));
        AwaitAssert(() => Assert.Equal(1, _status.Current.DriftRepairs));
    }

    [Fact]
    public void A_removed_lease_removes_the_peer_and_a_failed_pass_is_not_in_sync()
    {
        var leases = CreateTestProbe();
        var actor = Start(leases);
        actor.Tell(Snapshot(Lease("10.244.2.0/24", "b", "192.0.2.2"), Lease("10.244.3.0/24", "c", "192.0.2.3")));
        AwaitAssert(() => Assert.Equal(2, _backend.Kernel.Count));

        actor.Tell(Snapshot(Lease("10.244.3.0/24", "c", "192.0.2.3")));
        AwaitAssert(() => Assert.Equal(["10.244.3.0/24"], _backend.Kernel.Select(p => p.Subnet.ToString())));
        AwaitAssert(() => Assert.True(_status.Current.PeersInSync));

        _backend.FailNext = () => new ReconcileReport(0, 0, 0, [], ["add route: EPERM"]);
        actor.Tell(ReconcileNow.Instance);
        var done = ExpectMsg<ReconcileCompleted>();
        Assert.Equal(["add route: EPERM"], done.Report.Errors);
        Assert.False(_status.Current.PeersInSync);
        Assert.Equal(["add route: EPERM"], _status.Current.LastErrors);
    }

    private sealed class Subscription : IDisposable
    {
        public void Dispose() { }
    }
}
