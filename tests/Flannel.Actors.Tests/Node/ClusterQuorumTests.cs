using Akka.Cluster;
using Flannel.Actors.Node;
using Xunit;

namespace Flannel.Actors.Tests.Node;

/// <summary>Issue #13: when this node reports "partitioned" (no majority reachable, so every lease change fails).</summary>
public sealed class ClusterQuorumTests
{
    private const string Self = "akka.ssl.tcp://flannel@198.18.0.4:4053";

    private static IEnumerable<MemberSight> Members(int reachable, int unreachable, bool selfReachable = true)
    {
        yield return new MemberSight(Self, true, selfReachable);
        for (var i = 0; i < reachable; i++) yield return new MemberSight($"r{i}", true, true);
        for (var i = 0; i < unreachable; i++) yield return new MemberSight($"u{i}", true, false);
    }

    [Fact]
    public void Two_of_five_reachable_is_no_majority()
    {
        var verdict = Assert.IsType<QuorumVerdict.NoMajority>(ClusterQuorum.Judge(Members(1, 3), Self, selfUp: true));
        Assert.Equal("no majority: 2 of 5 members reachable", verdict.Reason);
    }

    [Fact]
    public void Three_of_five_is_a_majority() =>
        Assert.Equal(new QuorumVerdict.Majority(3, 5), ClusterQuorum.Judge(Members(2, 2), Self, selfUp: true));

    [Fact]
    public void An_even_split_is_no_majority_on_either_side() =>
        Assert.IsType<QuorumVerdict.NoMajority>(ClusterQuorum.Judge(Members(1, 2), Self, selfUp: true));

    [Fact]
    public void A_cluster_of_one_is_its_own_majority() =>
        Assert.Equal(new QuorumVerdict.Majority(1, 1), ClusterQuorum.Judge(Members(0, 0), Self, selfUp: true));

    [Fact]
    public void Down_members_still_count_but_are_never_reachable()
    {
        var members = Members(1, 0).Concat([new MemberSight("down1", true, false), new MemberSight("down2", true, false)]);
        Assert.IsType<QuorumVerdict.NoMajority>(ClusterQuorum.Judge(members, Self, selfUp: true));
    }

    [Fact]
    public void Joining_members_count_and_a_node_that_saw_them_join_before_the_cut_has_no_majority()
    {
        // Seen from a node cut off with one other while three joined on the far side: 2 of 5, not 2 of 2.
        var members = new[]
        {
            MemberSight.Of(Self, MemberStatus.Up, markedUnreachable: false),
            MemberSight.Of("near", MemberStatus.Up, markedUnreachable: false),
            MemberSight.Of("far1", MemberStatus.Joining, markedUnreachable: true),
            MemberSight.Of("far2", MemberStatus.Joining, markedUnreachable: true),
            MemberSight.Of("far3", MemberStatus.Joining, markedUnreachable: true),
        };
        Assert.Equal(new QuorumVerdict.NoMajority(2, 5), ClusterQuorum.Judge(members, Self, selfUp: true));
    }

    [Fact]
    public void Reachable_joiners_do_not_make_a_starting_cluster_look_partitioned()
    {
        var members = new[]
        {
            MemberSight.Of(Self, MemberStatus.Up, markedUnreachable: false),
            MemberSight.Of("j1", MemberStatus.Joining, markedUnreachable: false),
            MemberSight.Of("j2", MemberStatus.Joining, markedUnreachable: false),
        };
        Assert.Equal(new QuorumVerdict.Majority(3, 3), ClusterQuorum.Judge(members, Self, selfUp: true));
    }

    [Theory]
    [InlineData(MemberStatus.Joining, false, true, true)]
    [InlineData(MemberStatus.WeaklyUp, false, true, true)]
    [InlineData(MemberStatus.Up, true, true, false)]
    [InlineData(MemberStatus.Leaving, false, true, true)]
    [InlineData(MemberStatus.Exiting, false, true, false)]
    [InlineData(MemberStatus.Down, false, true, false)]
    [InlineData(MemberStatus.Removed, false, false, false)]
    public void A_member_counts_until_removed_and_is_reachable_while_alive_and_not_marked(
        MemberStatus status, bool markedUnreachable, bool counts, bool reachable) =>
        Assert.Equal(new MemberSight("m", counts, reachable), MemberSight.Of("m", status, markedUnreachable));

    [Fact]
    public void Nothing_is_said_before_this_node_is_up()
    {
        Assert.IsType<QuorumVerdict.Unknown>(ClusterQuorum.Judge(Members(4, 0), Self, selfUp: false));
        Assert.IsType<QuorumVerdict.Unknown>(ClusterQuorum.Judge([new MemberSight("other", true, true)], Self, selfUp: true));
    }

    [Fact]
    public void A_partitioned_agent_is_not_ready_and_says_why()
    {
        var state = new AgentState { NodeName = "host4", Partitioned = "no majority: 2 of 5 members reachable" };
        Assert.False(state.Ready);
        Assert.Contains("partitioned: no majority: 2 of 5 members reachable", state.NotReadyReasons);
        Assert.DoesNotContain(new AgentState { NodeName = "host4" }.NotReadyReasons, r => r.StartsWith("partitioned", StringComparison.Ordinal));
    }
}
