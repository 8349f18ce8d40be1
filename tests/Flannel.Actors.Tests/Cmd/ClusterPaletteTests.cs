using Akka.Actor;
using Akka.Cluster;
using Flannel.Actors.Cmd;
using Flannel.Actors.Tests.Leases;
using Flannel.Testing;
using Xunit;

namespace Flannel.Actors.Tests.Cmd;

/// <summary>The cluster palette against a real 3-node in-process cluster; palettes run on node 0.</summary>
public sealed class ClusterPaletteTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private readonly RecordingLoggerFactory _events = new();
    private readonly LeaseCluster _cluster;
    private CmdPalettes _cmd = null!;

    public ClusterPaletteTests() => _cluster = new LeaseCluster(loggers: _events);

    /// <summary>The security events (4049) the palette logged for removing other members.</summary>
    private IReadOnlyList<LoggedEvent> Removals => _events.WithId(4049);

    public async Task InitializeAsync()
    {
        await _cluster.StartAsync(3);
        _cmd = CmdPalettes.Start(_cluster[0].System, new CmdContext { NodeName = LeaseCluster.NodeName(0) });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task<CmdReply> Ask(string command, params string[] args) =>
        _cmd[CmdPalettes.Cluster]!.Ask<CmdReply>(CmdRequest.Of(CmdPalettes.Cluster, command, args), TimeSpan.FromSeconds(10));

    private async Task<ClusterView> Show() => (ClusterView)Assert.IsType<CmdOk>(await Ask("show")).Data;

    private static string HostPort(LeaseNode n) => $"{n.Address.Host}:{n.Address.Port}";

    [Fact]
    public async Task Show_lists_every_member_up_with_leader_and_self()
    {
        var view = await Show();

        Assert.Equal(_cluster[0].Address.ToString(), view.Self);
        Assert.Equal(_cluster.Nodes.Select(n => n.Address.ToString()).Order(), view.Members.Select(m => m.Address).Order());
        Assert.All(view.Members, m => Assert.Equal("Up", m.Status));
        Assert.All(view.Members, m => Assert.True(m.Reachable, $"{m.Address} reachable"));
        Assert.Single(view.Members, m => m.IsSelf);
        Assert.Equal(view.Leader, Assert.Single(view.Members, m => m.IsLeader).Address);
        Assert.Empty(view.Unreachable);
    }

    [Fact]
    public async Task Show_says_why_the_node_is_partitioned_and_nothing_when_it_is_not()
    {
        Assert.Null((await Show()).Partitioned);
        var reason = "no majority: 1 of 3 members reachable";
        var cmd = CmdPalettes.Start(_cluster[0].System, new CmdContext { NodeName = LeaseCluster.NodeName(0), Partitioned = () => reason }, "cmd-partitioned");
        var reply = await cmd[CmdPalettes.Cluster]!.Ask<CmdReply>(CmdRequest.Of(CmdPalettes.Cluster, "show"), TimeSpan.FromSeconds(10));
        Assert.Equal(reason, ((ClusterView)Assert.IsType<CmdOk>(reply).Data).Partitioned);
    }

    [Fact]
    public async Task Tail_streams_the_members_then_a_leave_that_removes_the_member()
    {
        var probe = CreateTestProbe(_cluster[0].System);
        _cmd[CmdPalettes.Cluster]!.Tell(new CmdSubscribe(CmdRequest.Of(CmdPalettes.Cluster, "tail"), probe));
        var ups = new HashSet<string>();
        probe.FishForMessage<CmdStreamItem>(item =>
        {
            if (item.Data is ClusterEventRow { Event: "MemberUp" } e) ups.Add(e.Address);
            return ups.Count == 3;
        }, TimeSpan.FromSeconds(10));

        var leaver = _cluster[2];
        var ack = Assert.IsType<CmdOk>(await Ask("leave", HostPort(leaver)));
        Assert.Contains(leaver.Address.ToString(), ((CmdAck)ack.Data).Message);
        var logged = Assert.Single(Removals);
        Assert.Equal(("leave", leaver.Address.ToString()), (logged.Field("Action"), logged.Field("Address")));
        Assert.Equal($"ctl on node node-0 ({_cluster[0].Address})", logged.Field("Origin"));

        probe.FishForMessage<CmdStreamItem>(item =>
            item.Data is ClusterEventRow { Event: "MemberRemoved" } e && e.Address == leaver.Address.ToString(),
            TimeSpan.FromSeconds(20));
        var view = await Show();
        Assert.DoesNotContain(view.Members, m => m.Address == leaver.Address.ToString());
        Assert.Equal(2, view.Members.Count);
    }

    [Fact]
    public async Task Tail_stops_when_the_subscriber_stops()
    {
        var probe = CreateTestProbe(_cluster[0].System);
        _cmd[CmdPalettes.Cluster]!.Tell(new CmdSubscribe(CmdRequest.Of(CmdPalettes.Cluster, "tail"), probe));
        probe.ExpectMsg<CmdStreamItem>(TimeSpan.FromSeconds(5));
        var tailPath = _cmd[CmdPalettes.Cluster]!.Path / "*";
        Assert.NotEmpty(Children(tailPath));

        _cluster[0].System.Stop(probe);

        await Poll.UntilAsync(() => Children(tailPath).Count == 0, TimeSpan.FromSeconds(5), "tail actor stopped");
    }

    [Fact]
    public async Task Down_unreachable_downs_a_partitioned_member()
    {
        var lost = _cluster[2];
        await LeaseCluster.Partition([lost], [_cluster[0], _cluster[1]]);
        await Poll.UntilAsync(async () => (await Show()).Unreachable.Contains(lost.Address.ToString()),
            TimeSpan.FromSeconds(15), "node 2 unreachable");
        Assert.False(Assert.Single((await Show()).Members, m => m.Address == lost.Address.ToString()).Reachable);

        var ack = (CmdAck)Assert.IsType<CmdOk>(await Ask("down-unreachable")).Data;

        Assert.Contains(lost.Address.ToString(), ack.Message);
        var logged = Assert.Single(Removals);
        Assert.Equal(("down", lost.Address.ToString()), (logged.Field("Action"), logged.Field("Address")));
        Assert.Equal($"ctl on node node-0 ({_cluster[0].Address})", logged.Field("Origin"));
        await Poll.UntilAsync(async () => (await Show()).Members.All(m => m.Address != lost.Address.ToString()),
            TimeSpan.FromSeconds(20), "node 2 removed after down");
    }

    [Fact]
    public async Task Join_makes_a_fresh_node_a_member_through_a_seed()
    {
        var fresh = ActorSystem.Create(LeaseCluster.SystemName, LeaseCluster.NodeConfig());
        try
        {
            var palettes = CmdPalettes.Start(fresh, new CmdContext());
            var join = CmdRequest.Of(CmdPalettes.Cluster, "join", HostPort(_cluster[0]));

            var ack = (CmdAck)Assert.IsType<CmdOk>(await palettes[CmdPalettes.Cluster]!.Ask<CmdReply>(join, TimeSpan.FromSeconds(10))).Data;

            Assert.Equal($"joining {_cluster[0].Address}", ack.Message);
            var self = Cluster.Get(fresh).SelfAddress.ToString();
            await Poll.UntilAsync(async () => (await Show()).Members.Any(m => m.Address == self && m.Status == "Up"),
                TimeSpan.FromSeconds(20), "the fresh node is Up");
        }
        finally
        {
            await fresh.Terminate();
        }
    }

    [Fact]
    public async Task Down_needs_a_member_address()
    {
        var missing = Assert.IsType<CmdFailed>(await Ask("down"));
        Assert.Equal(CmdExitCodes.Usage, missing.ExitCode);

        var bad = Assert.IsType<CmdFailed>(await Ask("down", "not-an-address"));
        Assert.Equal(CmdExitCodes.Usage, bad.ExitCode);
        Assert.Contains("not-an-address", bad.Error);

        var stranger = Assert.IsType<CmdFailed>(await Ask("down", "127.0.0.1:1"));
        Assert.StartsWith("no cluster member at akka.", stranger.Error);
        Assert.EndsWith("flannel@127.0.0.1:1", stranger.Error);
        Assert.Equal(3, (await Show()).Members.Count);
        Assert.Empty(Removals);
    }

    [Fact]
    public async Task Unknown_command_lists_the_palette_commands()
    {
        var failed = Assert.IsType<CmdFailed>(await Ask("explode"));

        Assert.Equal(CmdExitCodes.Usage, failed.ExitCode);
        Assert.Contains("unknown command 'cluster explode'", failed.Error);
        Assert.Contains("down-unreachable", failed.Error);
    }

    private IReadOnlyList<IActorRef> Children(ActorPath path)
    {
        var system = _cluster[0].System;
        var probe = CreateTestProbe(system);
        system.ActorSelection(path).Tell(new Identify(1), probe);
        var found = new List<IActorRef>();
        // Identify through a wildcard answers once per match; none when there is no child.
        while (probe.ReceiveOne(TimeSpan.FromMilliseconds(300)) is ActorIdentity { Subject: { } subject }) found.Add(subject);
        return found;
    }
}
