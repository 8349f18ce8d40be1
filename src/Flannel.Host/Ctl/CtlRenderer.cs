using System.Text.Json;
using System.Text.Json.Nodes;
using Flannel.Actors.Cmd;
using Flannel.Host.Health;
using Spectre.Console;

namespace Flannel.Host.Ctl;

/// <summary>Turns palette answers into tables for people (Spectre.Console).</summary>
public sealed class CtlRenderer(IAnsiConsole console, Func<DateTimeOffset>? now = null)
{
    private readonly Func<DateTimeOffset> _now = now ?? (() => DateTimeOffset.UtcNow);

    /// <summary>The view type a command's data deserializes to.</summary>
    public static Type ViewType(CmdRequest request) => (request.Palette, request.Command) switch
    {
        (CmdPalettes.Cluster, "show") => typeof(ClusterView),
        (CmdPalettes.Cluster, "tail") => typeof(ClusterEventRow),
        (CmdPalettes.Lease, "list" or "show") => typeof(LeaseListView),
        (CmdPalettes.Routes, _) => typeof(RoutesView),
        (CmdPalettes.Peers, _) => typeof(PeersView),
        (CmdPalettes.Config, _) => typeof(ConfigView),
        (CmdPalettes.Backend, _) => typeof(BackendView),
        (CmdPalettes.Actor, _) => typeof(ActorHierarchyView),
        (CmdPalettes.Log, _) => typeof(LogLevelView),
        (CmdPalettes.Status, _) => typeof(StatusView),
        _ => typeof(CmdAck),
    };

    public static object Deserialize(CmdRequest request, JsonNode? data) =>
        data.Deserialize(ViewType(request), CtlWire.Json)
        ?? throw new FormatException($"'{request.Palette} {request.Command}' answered without data");

    public void Render(object view)
    {
        switch (view)
        {
            case ClusterView v: Cluster(v); break;
            case ClusterEventRow e: Event(e); break;
            case LeaseListView v: Leases(v); break;
            case RoutesView v: Routes(v); break;
            case PeersView v: Peers(v); break;
            case ConfigView v: Config(v); break;
            case BackendView v: Backend(v); break;
            case ActorHierarchyView v: Hierarchy(v); break;
            case StatusView v: Status(v); break;
            case LogLevelView v:
                if (v.Previous is null) console.MarkupLineInterpolated($"log level: [bold]{v.Level}[/]");
                else console.MarkupLineInterpolated($"log level: [bold]{v.Level}[/] (was {v.Previous})");
                break;
            case CmdAck a: console.WriteLine(a.Message); break;
            default: console.WriteLine(JsonSerializer.Serialize(view, view.GetType(), CtlWire.Json)); break;
        }
    }

    private void Cluster(ClusterView v)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"cluster members ({v.Members.Count(m => m.Status == "Up")} up, {v.Unreachable.Count} unreachable)")
            .AddColumns("Address", "Status", "Roles", "Reachable", "Leader");
        foreach (var m in v.Members)
        {
            var address = Markup.Escape(m.Address) + (m.IsSelf ? " [grey](self)[/]" : "");
            var status = m.Status == "Up" ? $"[green]{m.Status}[/]" : $"[yellow]{Markup.Escape(m.Status)}[/]";
            var reachable = m.Reachable ? "[green]yes[/]" : "[red]no[/]";
            table.AddRow(address, status, Markup.Escape(string.Join(",", m.Roles)), reachable, m.IsLeader ? "*" : "");
        }
        console.Write(table);
        console.MarkupLineInterpolated($"leader: {v.Leader ?? "(none)"}");
        if (v.Partitioned is { } why)
            console.MarkupLineInterpolated($"[red]partitioned[/]: {why} (the data plane keeps forwarding; lease changes wait for a majority)");
    }

    private void Event(ClusterEventRow e) =>
        console.MarkupLineInterpolated(
            $"{e.Time:yyyy-MM-ddTHH:mm:ss.fffZ}  [bold]{e.Event,-18}[/] {e.Address} {e.Status ?? ""} {string.Join(",", e.Roles)}");

    private void Leases(LeaseListView v)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"subnet leases ({v.Leases.Count})")
            .AddColumns("Subnet", "Node", "Public IP", "Backend", "Expires", "Live", "Source");
        foreach (var l in v.Leases)
        {
            var left = l.Expiration - _now();
            var expires = l.Source != LeaseRow.LeaseSource ? "-" : left <= TimeSpan.Zero ? $"[red]expired {Ago(-left)} ago[/]" : $"in {Ago(left)}";
            var node = Markup.Escape(l.Node) + (l.Own ? " [grey](self)[/]" : "");
            table.AddRow(Markup.Escape(l.Subnet), node, Markup.Escape(l.PublicIp), Markup.Escape(l.Backend), expires,
                l.Live ? "[green]yes[/]" : l.Source != LeaseRow.LeaseSource ? "-" : "[yellow]no[/]", Markup.Escape(l.Source));
        }
        console.Write(table);
    }

    private void Routes(RoutesView v)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"routes ({v.Backend}, {v.Routes.Count(r => r.Drift)} drifted)")
            .AddColumns("Subnet", "Peer", "Desired", "Actual", "State", "Source");
        foreach (var r in v.Routes)
        {
            var state = r.State switch
            {
                RouteRow.Drifted => "[red]DRIFT[/] " + Markup.Escape(string.Join("; ", r.Differences)),
                RouteRow.InSync => "[green]ok[/]",
                _ => "[grey]ignored[/]",
            };
            table.AddRow(Markup.Escape(r.Subnet), Markup.Escape(r.Peer), Markup.Escape(r.Desired), Markup.Escape(r.Actual), state, Markup.Escape(r.Source));
        }
        console.Write(table);
    }

    private void Peers(PeersView v)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"peers ({v.Backend})")
            .AddColumns("Subnet", "Public IP", "Backend", "Tx pkts", "Tx bytes", "Rx pkts", "Rx bytes", "Drops", "FDB", "Neighbour");
        foreach (var p in v.Peers)
            table.AddRow(Markup.Escape(p.Subnet), Markup.Escape(p.PublicIp), Markup.Escape(p.Backend),
                p.TxPackets.ToString("N0"), p.TxBytes.ToString("N0"), p.RxPackets.ToString("N0"), p.RxBytes.ToString("N0"),
                Markup.Escape(Drops(p.Drops)), Markup.Escape(p.Fdb ?? "-"), Markup.Escape(p.Neighbour ?? "-"));
        console.Write(table);
        if (v.Tunnel is { } t)
            console.WriteLine($"tunnel: tx {t.TxPackets:N0} packets / {t.TxBytes:N0} bytes, rx {t.RxPackets:N0} packets / {t.RxBytes:N0} bytes");
        if (v.Tunnel?.Bpf is { } b)
            console.WriteLine($"bpf: tx {b.TxPackets:N0} packets / {b.TxBytes:N0} bytes, rx {b.RxPackets:N0} packets / {b.RxBytes:N0} bytes");
        console.WriteLine("drops: " + Drops(v.Drops));
    }

    private void Config(ConfigView v)
    {
        console.MarkupLineInterpolated($"net-conf version [bold]{v.Version}[/] from {v.Source}{(v.Loaded is { } t ? $" (loaded {t:u})" : "")}");
        console.WriteLine(v.NetConf);
    }

    private void Backend(BackendView v)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"backend {v.Type}").AddColumns("Field", "Value");
        table.AddRow("type", Markup.Escape(v.Type));
        table.AddRow("state", Markup.Escape(v.State));
        table.AddRow("device", Markup.Escape(v.Device ?? "-"));
        table.AddRow("mtu", v.Mtu?.ToString() ?? "-");
        foreach (var (k, val) in v.Details.OrderBy(d => d.Key, StringComparer.Ordinal)) table.AddRow(Markup.Escape(k), Markup.Escape(val));
        console.Write(table);
    }

    private void Status(StatusView v)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"flanneld on {v.Node}").AddColumns("Field", "Value");
        var ready = v.Ready ? "[green]yes[/]" : "[yellow]no[/] " + Markup.Escape(string.Join("; ", v.NotReady));
        table.AddRow("ready", ready);
        if (v.Fatal is { } fatal) table.AddRow("failed", "[red]" + Markup.Escape(fatal) + "[/]");
        table.AddRow("backend", Markup.Escape((v.Backend ?? "-") + (v.UdpDatapath is { } dp ? $" (data path {dp})" : "")));
        table.AddRow("public ip", Markup.Escape(v.PublicIp ?? "-"));
        table.AddRow("lease", Markup.Escape(v.Lease is { } l ? $"{l.Subnet} (expires {l.Expiration:u})" : "-"));
        table.AddRow("leases known", v.Leases.Count.ToString());
        var members = v.Members.Select(m => $"{m.Address} {m.Status}{(m.Leader ? " (leader)" : "")}{(m.Reachable ? "" : " unreachable")}");
        table.AddRow("members", Markup.Escape(string.Join(", ", members)));
        var r = v.Reconcile;
        table.AddRow("peers", $"{r.PeersProgrammed}/{r.PeersDesired} programmed{(r.InSync ? ", in sync" : "")}");
        table.AddRow("reconcile", Markup.Escape($"{r.Runs} runs, {r.Repairs} repairs ({r.DriftRepairs} drift){(r.Last is { } last ? $", last {last:u}" : "")}"));
        if (r.Errors.Count > 0) table.AddRow("last errors", Markup.Escape(string.Join("; ", r.Errors)));
        if (v.TunnelDrops is { Count: > 0 } drops)
            table.AddRow("tunnel drops", Markup.Escape(string.Join(", ", drops.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key}={d.Value}"))));
        console.Write(table);
    }

    private void Hierarchy(ActorHierarchyView v)
    {
        foreach (var root in v.Roots)
        {
            var tree = new Tree(Label(root));
            Add(tree, root.Children);
            console.Write(tree);
        }

        static void Add(IHasTreeNodes parent, IReadOnlyList<ActorNode> children)
        {
            foreach (var child in children) Add(parent.AddNode(Label(child)), child.Children);
        }

        static string Label(ActorNode n) => $"{Markup.Escape(n.Path)} [grey]{Markup.Escape(n.Type)}[/]";
    }

    private static string Drops(IReadOnlyList<DropCount> drops) =>
        drops.Count == 0 ? "0" : string.Join(", ", drops.Select(d => $"{d.Direction}/{d.Reason}={d.Count}"));

    private static string Ago(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s" : $"{t.TotalSeconds:0}s";
}
