using Flannel.Actors.Cmd;
using Flannel.Host.Ctl;
using Spectre.Console;
using Xunit;

namespace Flannel.Host.Tests.Ctl;

/// <summary>The human tables: what an operator must be able to read off them.</summary>
public sealed class CtlRendererTests
{
    private static string Render(object view)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        console.Profile.Width = 200;
        new CtlRenderer(console, () => DateTimeOffset.Parse("2026-11-27T08:00:00Z")).Render(view);
        return writer.ToString();
    }

    [Fact]
    public void Routes_mark_drift_with_what_differs()
    {
        var text = Render(new RoutesView("vxlan",
        [
            new RouteRow("10.5.2.0/24", "192.0.2.2", RouteRow.InSync, "via 10.5.2.0 onlink", "via 10.5.2.0 onlink", []),
            new RouteRow("10.5.3.0/24", "192.0.2.3", RouteRow.Drifted, "via 10.5.3.0 onlink", "(missing)", ["route missing"]),
        ]));

        Assert.Contains("routes (vxlan, 1 drifted)", text);
        Assert.Contains("DRIFT route missing", text);
        Assert.Single(text.Split('\n'), l => l.Contains("10.5.2.0/24") && l.Contains(" ok "));
    }

    [Fact]
    public void Peers_show_counters_drops_and_tunnel_totals()
    {
        var text = Render(new PeersView("udp",
            [new PeerRow("10.5.2.0/24", "192.0.2.2", "udp", 1200, 1_500_000, 900, 1_000_000, [], null, null)],
            [new DropCount("rx", "stranger", 7)],
            new TunnelTotals(1300, 1_600_000, 950, 1_100_000)));

        Assert.Contains("1,200", text);
        Assert.Contains("1,500,000", text);
        Assert.Contains("drops: rx/stranger=7", text);
        Assert.Contains("tunnel: tx 1,300 packets / 1,600,000 bytes, rx 950 packets / 1,100,000 bytes", text);
    }

    [Fact]
    public void Leases_show_time_left_and_expired_ones()
    {
        var now = DateTimeOffset.Parse("2026-11-27T08:00:00Z");
        var text = Render(new LeaseListView("host1",
        [
            new LeaseRow("10.5.1.0/24", "host1", "192.0.2.1", "udp", null, now.AddHours(23).AddMinutes(5), 4, true, true),
            new LeaseRow("10.5.9.0/24", "host9", "192.0.2.9", "udp", null, now.AddMinutes(-3), 9, false, false),
        ]));

        Assert.Contains("in 23h05m", text);
        Assert.Contains("expired 3m00s ago", text);
        Assert.Contains("host1 (self)", text);
    }

    [Fact]
    public void Actor_hierarchy_is_a_tree_with_types()
    {
        var text = Render(new ActorHierarchyView(
            [new ActorNode("/user", "GuardianActor", [new ActorNode("/user/cmd", "CmdRootActor", [new ActorNode("/user/cmd/lease", "LeasePaletteActor", [])])])]));

        Assert.Contains("/user GuardianActor", text);
        Assert.Contains("/user/cmd/lease LeasePaletteActor", text);
    }
}
