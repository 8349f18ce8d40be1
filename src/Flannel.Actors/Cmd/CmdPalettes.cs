using Akka.Actor;

namespace Flannel.Actors.Cmd;

/// <summary>
/// Starts one handler actor per palette under /user/cmd and routes requests to them by palette name.
/// Transports (the TCP command host, tests) only Ask these actors.
/// </summary>
public sealed class CmdPalettes
{
    public const string Cluster = "cluster";
    public const string Lease = "lease";
    public const string Routes = "routes";
    public const string Peers = "peers";
    public const string Config = "config";
    public const string Backend = "backend";
    public const string Actor = "actor";
    public const string Log = "log";
    public const string Status = "status";

    private readonly IReadOnlyDictionary<string, IActorRef> _palettes;

    private CmdPalettes(IActorRef root, IReadOnlyDictionary<string, IActorRef> palettes)
    {
        Root = root;
        _palettes = palettes;
    }

    /// <summary>The parent of the palette actors; stopping it stops them all.</summary>
    public IActorRef Root { get; }

    public IReadOnlyCollection<string> Names => _palettes.Keys.ToList();

    public IActorRef? this[string palette] => _palettes.GetValueOrDefault(palette);

    /// <summary>Commands that stream (sent as <see cref="CmdSubscribe"/> instead of asked).</summary>
    public static bool IsStreaming(CmdRequest request) => request is { Palette: Cluster, Command: "tail" };

    /// <summary>Commands that change the node or the cluster (logged at Information; reads only at Debug).</summary>
    public static bool ChangesState(CmdRequest request) => request switch
    {
        { Palette: Cluster, Command: "leave" or "down" or "down-unreachable" or "join" } => true,
        { Palette: Lease, Command: "release" } => true,
        { Palette: Log, Args.Count: > 0 } => true,
        _ => false,
    };

    public static CmdPalettes Start(ActorSystem system, CmdContext ctx, string name = "cmd")
    {
        var root = system.ActorOf(Props.Create(() => new CmdRootActor()), name);
        var palettes = new Dictionary<string, IActorRef>(StringComparer.Ordinal)
        {
            [Cluster] = Spawn(system, root, ClusterPaletteActor.Props(ctx.NodeName, ctx.Partitioned), Cluster),
            [Lease] = Spawn(system, root, LeasePaletteActor.Props(ctx), Lease),
            [Routes] = Spawn(system, root, QueryPaletteActor.Props(Routes, Query(("show", Wrap(ctx.Routes))), ctx.SourceTimeout), Routes),
            [Peers] = Spawn(system, root, QueryPaletteActor.Props(Peers, Query(("show", Wrap(ctx.Peers))), ctx.SourceTimeout), Peers),
            [Config] = Spawn(system, root, QueryPaletteActor.Props(Config, Query(("show", Wrap(ctx.Config))), ctx.SourceTimeout), Config),
            [Backend] = Spawn(system, root, QueryPaletteActor.Props(Backend, Query(("show", Wrap(ctx.Backend))), ctx.SourceTimeout), Backend),
            [Actor] = Spawn(system, root, ActorPaletteActor.Props(), Actor),
            [Log] = Spawn(system, root, LogPaletteActor.Props(ctx.LogLevel), Log),
            [Status] = Spawn(system, root, QueryPaletteActor.Props(Status, Query(("show", ctx.Status)), ctx.SourceTimeout), Status),
        };
        return new CmdPalettes(root, palettes);
    }

    private static IActorRef Spawn(ActorSystem system, IActorRef root, Props props, string name) =>
        root.Ask<IActorRef>(new CmdRootActor.Spawn(props, name), TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();

    private static IReadOnlyDictionary<string, Func<CancellationToken, Task<object>>?> Query(
        params (string Command, Func<CancellationToken, Task<object>>? Source)[] commands) =>
        commands.ToDictionary(c => c.Command, c => c.Source, StringComparer.Ordinal);

    private static Func<CancellationToken, Task<object>>? Wrap<T>(Func<CancellationToken, Task<T>>? source) where T : notnull =>
        source is null ? null : async ct => await source(ct);

    /// <summary>Parent of the palettes, so the hierarchy reads /user/cmd/lease etc. and one Stop ends them all.</summary>
    private sealed class CmdRootActor : ReceiveActor
    {
        public sealed record Spawn(Props Props, string Name);

        public CmdRootActor() => Receive<Spawn>(s => Sender.Tell(Context.ActorOf(s.Props, s.Name)));
    }
}
