using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Flannel.Actors.Cmd;
using Flannel.Host.Ctl;
using Flannel.Host.Health;
using Flannel.Net.Tunnel;
using Xunit;

namespace Flannel.Host.Tests.Ctl;

/// <summary>
/// The command socket's compile-time serializers (CtlJsonContext, what the NativeAOT flanneld can use) cover every
/// palette's answer and write what the reflection serializer wrote before them, so `ctl --json` output is unchanged.
/// </summary>
public sealed class CtlJsonContextTests
{
    /// <summary>The reflection-only options CtlWire.Json had before the context.</summary>
    private static readonly JsonSerializerOptions Reflection = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter() },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    public static TheoryData<string, string> PaletteCommands() => new()
    {
        { CmdPalettes.Cluster, "show" }, { CmdPalettes.Cluster, "tail" }, { CmdPalettes.Cluster, "leave" },
        { CmdPalettes.Lease, "list" }, { CmdPalettes.Lease, "show" }, { CmdPalettes.Lease, "release" },
        { CmdPalettes.Routes, "show" }, { CmdPalettes.Peers, "show" }, { CmdPalettes.Config, "show" },
        { CmdPalettes.Backend, "show" }, { CmdPalettes.Actor, "tree" }, { CmdPalettes.Log, "level" },
        { CmdPalettes.Status, "show" },
    };

    [Theory]
    [MemberData(nameof(PaletteCommands))]
    public void Every_palette_answer_has_a_compile_time_serializer(string palette, string command)
    {
        var type = CtlRenderer.ViewType(CmdRequest.Of(palette, command));
        Assert.NotNull(CtlJsonContext.Default.GetTypeInfo(type));
    }

    [Fact]
    public void Generated_serializers_write_what_reflection_wrote()
    {
        var when = DateTimeOffset.Parse("2026-11-27T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        object[] views =
        [
            new CmdAck("done"),
            new ClusterView("akka.tcp://flannel@198.18.0.1:4053", null,
                [new MemberRow("akka.tcp://flannel@198.18.0.1:4053", "Up", ["dc-default"], true, true, true)], ["x"], "minority"),
            new ClusterEventRow(when, "MemberUp", "a", null, []),
            new LeaseListView("node-a", [new LeaseRow("10.5.1.0/24", "node-a", "198.18.0.1", "vxlan", null, when, 3, true, true)]),
            new RoutesView("vxlan", [new RouteRow("10.5.2.0/24", "198.18.0.2", RouteRow.Drifted, "d", "a", ["gw"])]),
            new PeersView("udp", [new PeerRow("10.5.2.0/24", "198.18.0.2", "udp", 1, 2, 3, 4, [new DropCount("tx", "no-peer", 5)], null, null)],
                [], new TunnelTotals(1, 2, 3, 4) { Coalescing = new CoalescingCounters(1, 2, 3, 4, 5), Bpf = new BpfTotals(6, 7, 8, 9) }),
            new ConfigView("{}", "1", "file", when),
            new BackendView("vxlan", "up", "flannel.1", 1450, new Dictionary<string, string> { ["vni"] = "1" }),
            new ActorHierarchyView([new ActorNode("/user", "Guardian", [new ActorNode("/user/a", "A", [])])]),
            new LogLevelView("Debug", "Information"),
            new StatusView("node-a", false, ["lease"], null, "udp", "198.18.0.1", null, [],
                [new MemberView("a", "Up", true, false)], new ReconcileView(2, 1, false, 3, 4, 5, when, ["e"]),
                new Dictionary<string, long> { ["no-peer"] = 1 }) { UdpDatapath = "tun", RejectedLeases = ["r"] },
        ];
        foreach (var view in views)
            Assert.Equal(JsonSerializer.Serialize(view, view.GetType(), Reflection),
                JsonSerializer.Serialize(view, view.GetType(), CtlWire.Json));
    }
}
