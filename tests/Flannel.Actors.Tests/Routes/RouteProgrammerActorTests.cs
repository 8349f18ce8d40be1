using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Leases;
using Flannel.Actors.Node;
using Flannel.Actors.Routes;
using Flannel.Actors.Observability;
using Flannel.Actors.Tests.Observability;
using Flannel.Net.Backends;
using Xunit;
using Flannel.Actors.Tests.Node;
using static Flannel.Actors.Tests.Leases.LeaseFixtures;

namespace Flannel.Actors.Tests.Routes;

public sealed class RouteProgrammerActorTests : TestKit
{
    private readonly FakeBackend _backend = new();
    private readonly AgentStatus _status = new("a");
    private Action? _kernelChanged;

    private IActorRef Start(Akka.TestKit.TestProbe leases, TimeSpan? period = null)
    {
        var settings = new RouteProgrammerSettings("a", period ?? TimeSpan.FromMinutes(10), TimeSpan.FromMilliseconds(20), cb =>
        {
            _kernelChanged = cb;
            return new Subscription();
        }) { Network = IPNetwork.Parse("10.244.0.0/16") };
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

        using var repairs = new MeasurementRecorder(FlannelInstruments.ReconcileRepairs);
        _backend.Forget(IPNetwork.Parse("10.244.2.0/24"));
        _kernelChanged!();

        AwaitAssert(() => Assert.Equal(1, _status.Current.DriftRepairs));
        Assert.Single(_backend.Kernel);
        // flannel_reconcile_repairs_total{backend,kind}: the repaired object's kind comes with the change, not parsed from text.
        var repair = Assert.Single(repairs.Of(FlannelInstruments.ReconcileRepairs));
        Assert.Equal((1.0, "fake", "route"), (repair.Value, repair.Tags["backend"], repair.Tags.GetValueOrDefault("kind")));
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

    [Fact]
    public void Only_accepted_peers_reach_the_backend_and_each_refusal_is_counted_once()
    {
        using var rejections = new RejectionCounter();
        var leases = CreateTestProbe();
        var actor = Start(leases);
        var table = Snapshot(
            Lease("10.244.2.0/24", "b", "192.0.2.2"),
            Lease("0.0.0.0/0", "evil", "192.0.2.66"),
            Lease("169.254.169.254/32", "evil2", "192.0.2.67"),
            Lease("10.96.0.0/12", "evil3", "192.0.2.68"),
            Lease("10.244.3.0/24", "loop", "127.0.0.1"));
        actor.Tell(table);
        AwaitAssert(() => Assert.True(_status.Current.PeersInSync));
        Assert.Equal(["10.244.2.0/24"], _backend.Kernel.Select(p => p.Subnet.ToString()));
        Assert.Equal(
            ["0.0.0.0/0 outside_network", "10.244.3.0/24 public_ip_not_unicast", "10.96.0.0/12 outside_network", "169.254.169.254/32 outside_network"],
            _status.Current.RejectedLeases.Select(r => $"{r.Peer.Subnet} {PeerFilter.Label(r.Reason)}").Order(StringComparer.Ordinal));

        // The same table again (and again after a kernel change): nothing new to report.
        actor.Tell(table);
        actor.Tell(ReconcileNow.Instance);
        ExpectMsg<ReconcileCompleted>();
        Assert.Equal(3, rejections.Count("outside_network"));
        Assert.Equal(1, rejections.Count("public_ip_not_unicast"));

        // ctl routes lists the refused entries with their reason.
        actor.Tell(GetRouteStatus.Instance);
        var status = ExpectMsg<RouteStatus>();
        Assert.Contains(status.Peers, p => p.Subnet.ToString() == "0.0.0.0/0" && p.State == PeerRouteState.Ignored &&
                                           p.Desired == "refused: outside_network");
    }

    [Fact]
    public void A_new_own_lease_drops_the_peer_that_now_overlaps_it()
    {
        var leases = CreateTestProbe();
        var actor = Start(leases);
        var old = Lease("10.244.1.0/24", "a", "192.0.2.1");
        var stale = Lease("10.244.5.0/24", "stale", "192.0.2.5");
        actor.Tell(SnapshotWithOwn(old, Lease("10.244.2.0/24", "b", "192.0.2.2"), stale));
        AwaitAssert(() => Assert.Equal(2, _backend.Kernel.Count));

        // The own lease reaches the programmer in the snapshot (no side channel): the new one overlaps the stale entry.
        var moved = Lease("10.244.5.0/24", "a", "192.0.2.1");
        actor.Tell(new LeaseSnapshot(Snapshot(Lease("10.244.2.0/24", "b", "192.0.2.2"), stale).Leases, moved));
        AwaitAssert(() => Assert.Equal(["10.244.2.0/24"], _backend.Kernel.Select(p => p.Subnet.ToString())));
        Assert.Null(_status.Current.Lease);
    }

    /// <summary>Counts flannel.lease.entries.rejected measurements by reason (tests in this assembly run one at a time).</summary>
    private sealed class RejectionCounter : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _counts = new();

        public RejectionCounter()
        {
            // Created (and published) before the listener starts: published first from inside FlannelInstruments' static
            // initializer, the callback would compare against a field not yet set and enable nothing (this test then
            // failed whenever it was the first in the process to touch the instruments).
            _ = Flannel.Actors.Observability.FlannelInstruments.LeaseEntriesRejected;
            _listener.InstrumentPublished = (i, l) =>
            {
                if (ReferenceEquals(i, Flannel.Actors.Observability.FlannelInstruments.LeaseEntriesRejected)) l.EnableMeasurementEvents(i);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var t in tags)
                    if (t.Key == "reason") _counts.AddOrUpdate(t.Value?.ToString() ?? "", value, (_, v) => v + value);
            });
            _listener.Start();
        }

        public long Count(string reason) => _counts.TryGetValue(reason, out var v) ? v : 0;

        public void Dispose() => _listener.Dispose();
    }

    private sealed class Subscription : IDisposable
    {
        public void Dispose() { }
    }
}
