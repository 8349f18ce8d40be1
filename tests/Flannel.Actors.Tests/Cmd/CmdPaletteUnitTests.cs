using System.Net;
using Akka.Actor;
using Akka.Configuration;
using Flannel.Actors.Cmd;
using Flannel.Actors.Remoting;
using Flannel.Net.Backends;
using Flannel.Net.Tunnel;
using Xunit;

namespace Flannel.Actors.Tests.Cmd;

/// <summary>Palettes that need no cluster, and the pure mappings behind the views.</summary>
public sealed class CmdPaletteUnitTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("akka.loglevel = WARNING"))
{
    private Task<CmdReply> Ask(IActorRef palette, CmdRequest request) => palette.Ask<CmdReply>(request, TimeSpan.FromSeconds(10));

    [Fact]
    public async Task Query_palette_answers_from_its_source_and_names_a_missing_one()
    {
        var view = new ConfigView("{\"Network\":\"10.5.0.0/16\"}", "3", "/etc/kube-flannel/net-conf.json", null);
        var sources = new Dictionary<string, Func<CancellationToken, Task<object>>?>
        {
            ["show"] = _ => Task.FromResult<object>(view),
            ["other"] = null,
        };
        var palette = Sys.ActorOf(QueryPaletteActor.Props("config", sources, TimeSpan.FromSeconds(2)));

        Assert.Equal(view, Assert.IsType<CmdOk>(await Ask(palette, CmdRequest.Of("config", "show"))).Data);
        var missing = Assert.IsType<CmdFailed>(await Ask(palette, CmdRequest.Of("config", "other")));
        Assert.Equal("'config other' is not available on this agent", missing.Error);
    }

    [Fact]
    public async Task Query_palette_reports_a_source_that_does_not_answer_or_throws()
    {
        var sources = new Dictionary<string, Func<CancellationToken, Task<object>>?>
        {
            ["slow"] = async ct => { await Task.Delay(Timeout.Infinite, ct); return "never"; },
            ["broken"] = _ => throw new InvalidOperationException("netlink socket closed"),
        };
        var palette = Sys.ActorOf(QueryPaletteActor.Props("routes", sources, TimeSpan.FromMilliseconds(300)));

        var slow = Assert.IsType<CmdFailed>(await Ask(palette, CmdRequest.Of("routes", "slow")));
        Assert.Contains("got no answer within 0.3 s", slow.Error);
        var broken = Assert.IsType<CmdFailed>(await Ask(palette, CmdRequest.Of("routes", "broken")));
        Assert.Equal("routes broken: InvalidOperationException: netlink socket closed", broken.Error);
    }

    [Fact]
    public async Task Log_palette_sets_the_process_level_and_akkas()
    {
        var level = new RecordingLevel();
        var palette = Sys.ActorOf(LogPaletteActor.Props(level));

        var set = (LogLevelView)Assert.IsType<CmdOk>(await Ask(palette, CmdRequest.Of("log", "level", "debug"))).Data;

        Assert.Equal(new LogLevelView("debug", "Information"), set);
        Assert.Equal(Akka.Event.LogLevel.DebugLevel, Sys.EventStream.LogLevel);
        var shown = (LogLevelView)Assert.IsType<CmdOk>(await Ask(palette, CmdRequest.Of("log", "level"))).Data;
        Assert.Equal("debug", shown.Level);
        var bad = Assert.IsType<CmdFailed>(await Ask(palette, CmdRequest.Of("log", "level", "loud")));
        Assert.Equal(CmdExitCodes.Usage, bad.ExitCode);
        Assert.Contains("'loud'", bad.Error);
        Assert.Equal("debug", level.Current);
    }

    [Fact]
    public async Task Actor_hierarchy_lists_the_palettes_with_their_types()
    {
        var palettes = CmdPalettes.Start(Sys, new CmdContext());

        var view = (ActorHierarchyView)Assert.IsType<CmdOk>(
            await Ask(palettes[CmdPalettes.Actor]!, CmdRequest.Of("actor", "hierarchy"))).Data;

        var user = Assert.Single(view.Roots);
        Assert.Equal("/user", user.Path);
        var cmd = Assert.Single(user.Children, c => c.Path == "/user/cmd");
        Assert.Contains(cmd.Children, c => c.Path == "/user/cmd/lease" && c.Type == nameof(LeasePaletteActor));
        Assert.Contains(cmd.Children, c => c.Path == "/user/cmd/cluster" && c.Type == nameof(ClusterPaletteActor));
    }

    [Fact]
    public async Task Lease_palette_without_a_table_says_so()
    {
        var palettes = CmdPalettes.Start(Sys, new CmdContext(), "cmd-no-leases");

        var failed = Assert.IsType<CmdFailed>(await Ask(palettes[CmdPalettes.Lease]!, CmdRequest.Of("lease", "list")));

        Assert.Equal("the lease table is not available on this agent", failed.Error);
    }

    [Theory]
    [InlineData("10.0.0.2:4053", "akka.tcp://flannel@10.0.0.2:4053")]
    [InlineData("akka.tcp://flannel@host-b:4053", "akka.tcp://flannel@host-b:4053")]
    [InlineData("[fd00::2]:4053", "akka.tcp://flannel@fd00::2:4053")]
    public void Addresses_may_be_host_port_or_full(string text, string expected)
    {
        var self = new Address("akka.tcp", "flannel", "10.0.0.1", 4053);
        Assert.Equal(expected, ClusterViews.ParseAddress(text, self).ToString());
    }

    [Fact]
    public void Host_port_takes_the_tls_protocol_of_a_tls_cluster_and_a_full_address_of_the_other_protocol_is_refused()
    {
        var self = new Address(ClusterProtocol.Tls, "flannel", "10.0.0.1", 4053);
        Assert.Equal("akka.ssl.tcp://flannel@10.0.0.2:4053", ClusterViews.ParseAddress("10.0.0.2:4053", self).ToString());
        Assert.Equal("akka.ssl.tcp://flannel@10.0.0.2:4053", ClusterViews.ParseAddress("akka.ssl.tcp://flannel@10.0.0.2:4053", self).ToString());
        var e = Assert.Throws<FormatException>(() => ClusterViews.ParseAddress("akka.tcp://flannel@10.0.0.2:4053", self));
        Assert.Contains("akka.tcp", e.Message);
        Assert.Contains("this cluster uses akka.ssl.tcp", e.Message);
    }

    [Theory]
    [InlineData("10.0.0.2")]
    [InlineData("10.0.0.2:99999")]
    [InlineData(":4053")]
    public void Bad_addresses_are_named(string text)
    {
        var e = Assert.Throws<FormatException>(() => ClusterViews.ParseAddress(text, new Address("akka.tcp", "flannel", "h", 1)));
        Assert.Contains($"'{text}'", e.Message);
    }

    [Fact]
    public void Routes_view_marks_drift_and_ignored_peers_in_subnet_order()
    {
        var statuses = new[]
        {
            new PeerRouteStatus(IPNetwork.Parse("10.5.3.0/24"), IPAddress.Parse("192.0.2.3"), "udp", PeerRouteState.InSync,
                "10.5.3.0/24 dev flannel0", "10.5.3.0/24 dev flannel0", []),
            new PeerRouteStatus(IPNetwork.Parse("10.5.2.0/24"), IPAddress.Parse("192.0.2.2"), "udp", PeerRouteState.Drift,
                "10.5.2.0/24 dev flannel0", null, ["route missing"]),
            new PeerRouteStatus(IPNetwork.Parse("10.5.10.0/24"), IPAddress.Parse("192.0.2.4"), "vxlan", PeerRouteState.Ignored,
                "-", null, []),
        };

        var view = CmdSources.ToRoutesView("udp", statuses);

        Assert.Equal(["10.5.2.0/24", "10.5.3.0/24", "10.5.10.0/24"], view.Routes.Select(r => r.Subnet));
        Assert.Equal([RouteRow.Drifted, RouteRow.InSync, RouteRow.Ignored], view.Routes.Select(r => r.State));
        Assert.True(view.Routes[0].Drift);
        Assert.Equal("(missing)", view.Routes[0].Actual);
        Assert.Equal(["route missing"], view.Routes[0].Differences);
    }

    [Fact]
    public void Peers_view_takes_udp_counters_by_public_ip_and_drops_by_reason()
    {
        var a = new PeerLease(IPNetwork.Parse("10.5.2.0/24"), IPAddress.Parse("192.0.2.2"), "udp", null);
        var b = new PeerLease(IPNetwork.Parse("10.5.3.0/24"), IPAddress.Parse("192.0.2.3"), "udp", null);
        var tunnel = new TunnelCounters(new TrafficCounters(10, 1000), new TrafficCounters(7, 700),
            new Dictionary<DropReason, long> { [DropReason.NoRoute] = 2, [DropReason.NotIpv4] = 1, [DropReason.Malformed] = 0 },
            new Dictionary<DropReason, long> { [DropReason.Stranger] = 4, [DropReason.NotIpv4] = 3 },
            [new PeerCounters(a.PublicIp, new TrafficCounters(6, 600), new TrafficCounters(5, 500))], OffloadActive: false, Queues: 2);

        var view = CmdSources.ToPeersView("udp", [b, a], tunnel);

        Assert.Equal(["10.5.2.0/24", "10.5.3.0/24"], view.Peers.Select(p => p.Subnet));
        Assert.Equal((6L, 600L, 5L, 500L), (view.Peers[0].TxPackets, view.Peers[0].TxBytes, view.Peers[0].RxPackets, view.Peers[0].RxBytes));
        Assert.Equal(0, view.Peers[1].TxPackets);
        Assert.Null(view.Peers[0].Fdb);
        // A reason both sides know (not IPv4) is shown under the side that dropped it.
        Assert.Equal([new DropCount("tx", "no_route", 2), new DropCount("tx", "not_ipv4", 1), new DropCount("rx", "stranger", 4),
            new DropCount("rx", "not_ipv4", 3)], view.Drops);
        Assert.Equal(new TunnelTotals(10, 1000, 7, 700), view.Tunnel);
    }

    [Fact]
    public void Vxlan_peers_show_fdb_and_neighbour_state_from_inspect()
    {
        var p = new PeerLease(IPNetwork.Parse("10.5.2.0/24"), IPAddress.Parse("192.0.2.2"), "vxlan", "{\"VNI\":1,\"VtepMAC\":\"02:00:00:00:00:02\"}");
        var status = new PeerRouteStatus(p.Subnet, p.PublicIp, "vxlan", PeerRouteState.Drift, "...", "...",
            ["fdb 02:00:00:00:00:02 missing"]);

        var row = Assert.Single(CmdSources.ToPeersView("vxlan", [p], null, [status]).Peers);

        Assert.Equal("fdb 02:00:00:00:00:02 missing", row.Fdb);
        Assert.Equal("ok", row.Neighbour);
    }

    private sealed class RecordingLevel : ILogLevelSwitch
    {
        public string Current { get; private set; } = "Information";

        public void Set(string level) => Current = level;
    }
}
