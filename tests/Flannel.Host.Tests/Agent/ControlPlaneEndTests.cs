using Flannel.Host.Agent;
using Flannel.Host.Options;
using Xunit;

namespace Flannel.Host.Tests.Agent;

/// <summary>Issue #13: flanneld exits only on its own stop or an unrecoverable local error; any other end is survived.</summary>
public sealed class ControlPlaneEndTests
{
    [Theory]
    [InlineData(true, false, false, ControlPlaneEnd.Stop)]   // SIGTERM seen by the runner first
    [InlineData(false, false, true, ControlPlaneEnd.Stop)]   // SIGTERM seen by Akka's CLR hook first
    [InlineData(true, true, false, ControlPlaneEnd.Stop)]    // a failure while stopping is still a stop
    [InlineData(false, true, false, ControlPlaneEnd.Fail)]   // lease lost for good, backend broken
    [InlineData(false, true, true, ControlPlaneEnd.Stop)]
    [InlineData(false, false, false, ControlPlaneEnd.Rejoin)] // downed, removed, stopped after a transport failure
    public void Only_our_stop_and_local_failures_end_the_process(bool stopRequested, bool failed, bool clrExit, ControlPlaneEnd expected) =>
        Assert.Equal(expected, ControlPlaneEndJudge.Decide(stopRequested, failed, clrExit));

    [Fact]
    public void A_graceful_leave_an_operator_asked_for_ends_the_process_but_a_downing_does_not()
    {
        Assert.Equal(ControlPlaneEnd.Stop, ControlPlaneEndJudge.Decide(false, false, false, left: true));
        Assert.Equal(ControlPlaneEnd.Fail, ControlPlaneEndJudge.Decide(false, true, false, left: true));
        Assert.Equal(ControlPlaneEnd.Rejoin, ControlPlaneEndJudge.Decide(false, false, false, left: false));
    }

    [Fact]
    public void Backoff_doubles_for_incarnations_that_end_soon_and_resets_after_a_stable_one()
    {
        var b = new RejoinBackoff(TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(60));
        Assert.Equal(TimeSpan.FromSeconds(0.5), b.Next(TimeSpan.FromSeconds(120)));
        Assert.Equal(TimeSpan.FromSeconds(1), b.Next(TimeSpan.FromSeconds(3)));
        Assert.Equal(TimeSpan.FromSeconds(2), b.Next(TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(4), b.Next(TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(4), b.Next(TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(0.5), b.Next(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void The_default_backoff_starts_well_inside_the_rejoin_goal()
    {
        var b = RejoinBackoff.Default();
        Assert.True(b.First <= TimeSpan.FromSeconds(1));
        Assert.True(b.Max <= TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_rejoining_node_joins_through_the_other_seeds_only()
    {
        var seeds = new[] { new ClusterSeed("198.18.0.1", 4053), new ClusterSeed("198.18.0.2", 4053), new ClusterSeed("198.18.0.3", 4053) };
        Assert.Equal(seeds[1..], RejoinSeeds.For(seeds, s => s.Host == "198.18.0.1"));
        Assert.Equal([seeds[0], seeds[2]], RejoinSeeds.For(seeds, s => s.Host == "198.18.0.2"));
        // A cluster of one has nobody else to join: it forms its own again, as at the first start.
        Assert.Empty(RejoinSeeds.For([seeds[0]], s => s.Host == "198.18.0.1"));
    }
}
