using Akka.Actor;
using Akka.Cluster;

namespace Flannel.Actors.Cmd;

/// <summary>The `cluster` palette: show, leave, down, down-unreachable, join, tail (streaming).</summary>
public sealed class ClusterPaletteActor : PaletteActor
{
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    public ClusterPaletteActor() : base("cluster") { }

    public static Props Props() => Akka.Actor.Props.Create(() => new ClusterPaletteActor());

    protected override IReadOnlyList<string> Commands { get; } =
        ["show", "leave [address]", "down <address>", "down-unreachable", "join <address>", "tail"];

    protected override Task<CmdReply> HandleAsync(CmdRequest request) => Task.FromResult(request.Command switch
    {
        "show" => Ok(ClusterViews.Show(_cluster.State, _cluster.SelfAddress)),
        "leave" => Leave(request),
        "down" => Down(request),
        "down-unreachable" => DownUnreachable(),
        "join" => Join(request),
        "tail" => Usage("cluster tail streams events; use a streaming client (flanneld ctl cluster tail)"),
        _ => Unknown(request),
    });

    protected override void OnSubscribe(CmdSubscribe subscribe)
    {
        if (subscribe.Request.Command != "tail")
        {
            base.OnSubscribe(subscribe);
            return;
        }
        Context.ActorOf(ClusterTailActor.Props(subscribe.Subscriber));
    }

    private CmdReply Leave(CmdRequest request)
    {
        var address = request.Arg(0) is { } text ? ClusterViews.ParseAddress(text, _cluster.SelfAddress) : _cluster.SelfAddress;
        if (!IsMember(address)) return new CmdFailed($"no cluster member at {address}");
        _cluster.Leave(address);
        return Ok(new CmdAck($"{address} is leaving the cluster"));
    }

    private CmdReply Down(CmdRequest request)
    {
        if (request.Arg(0) is not { } text) return Usage("cluster down needs an address: cluster down <host:port|akka address>");
        var address = ClusterViews.ParseAddress(text, _cluster.SelfAddress);
        if (!IsMember(address)) return new CmdFailed($"no cluster member at {address}");
        _cluster.Down(address);
        return Ok(new CmdAck($"{address} marked down"));
    }

    private CmdReply DownUnreachable()
    {
        var unreachable = _cluster.State.Unreachable.Select(m => m.Address).ToList();
        foreach (var address in unreachable) _cluster.Down(address);
        return Ok(new CmdAck(unreachable.Count == 0
            ? "no unreachable members"
            : $"marked down: {string.Join(", ", unreachable)}"));
    }

    private CmdReply Join(CmdRequest request)
    {
        if (request.Arg(0) is not { } text) return Usage("cluster join needs a seed address: cluster join <host:port|akka address>");
        var address = ClusterViews.ParseAddress(text, _cluster.SelfAddress);
        _cluster.Join(address);
        return Ok(new CmdAck($"joining {address}"));
    }

    private bool IsMember(Address address) =>
        _cluster.State.Members.Any(m => m.Address.Equals(address)) || _cluster.State.Unreachable.Any(m => m.Address.Equals(address));
}
