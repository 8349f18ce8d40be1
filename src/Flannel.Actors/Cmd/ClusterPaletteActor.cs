using Akka.Actor;
using Akka.Cluster;
using Flannel.Actors.Observability;

namespace Flannel.Actors.Cmd;

/// <summary>
/// The `cluster` palette: show, leave, down, down-unreachable, join, tail (streaming). Removing another member
/// (leave of another address, down, down-unreachable) is logged as a security event with its origin.
/// </summary>
public sealed class ClusterPaletteActor : PaletteActor
{
    private readonly Cluster? _clusterOrNull = ClusterViews.IsClustered(Context.System) ? Cluster.Get(Context.System) : null;
    private readonly Microsoft.Extensions.Logging.ILogger _events = Context.System.FlannelLogger("Flannel.Cluster");
    private readonly string _origin;
    private readonly Func<string?>? _partitioned;

    /// <param name="nodeName">This agent's node name, logged as the origin of operator actions.</param>
    /// <param name="partitioned">Why this node is cut off from the majority (null = it is not), for `show`.</param>
    public ClusterPaletteActor(string nodeName, Func<string?>? partitioned = null) : base("cluster")
    {
        _origin = $"ctl on node {nodeName} ({(_clusterOrNull?.SelfAddress.ToString() ?? "not clustered")})";
        _partitioned = partitioned;
    }

    private Cluster ClusterExt => _clusterOrNull!;

    public static Props Props(string nodeName, Func<string?>? partitioned = null) =>
        Akka.Actor.Props.Create(() => new ClusterPaletteActor(nodeName, partitioned));

    protected override IReadOnlyList<string> Commands { get; } =
        ["show", "leave [address]", "down <address>", "down-unreachable", "join <address>", "tail"];

    protected override Task<CmdReply> HandleAsync(CmdRequest request) => Task.FromResult(Handle(request));

    private CmdReply Handle(CmdRequest request)
    {
        if (_clusterOrNull is null) return new CmdFailed("this actor system is not clustered");
        return request.Command switch
        {
            "show" => Ok(ClusterViews.Show(ClusterExt.State, ClusterExt.SelfAddress) with { Partitioned = _partitioned?.Invoke() }),
            "leave" => Leave(request),
            "down" => Down(request),
            "down-unreachable" => DownUnreachable(),
            "join" => Join(request),
            "tail" => Usage("cluster tail streams events; use a streaming client (flanneld ctl cluster tail)"),
            _ => Unknown(request),
        };
    }

    protected override void OnSubscribe(CmdSubscribe subscribe)
    {
        if (subscribe.Request.Command != "tail")
        {
            base.OnSubscribe(subscribe);
            return;
        }
        if (_clusterOrNull is null)
        {
            subscribe.Subscriber.Tell(new CmdFailed("this actor system is not clustered"));
            return;
        }
        Context.ActorOf(ClusterTailActor.Props(subscribe.Subscriber));
    }

    private CmdReply Leave(CmdRequest request)
    {
        var address = request.Arg(0) is { } text ? ClusterViews.ParseAddress(text, ClusterExt.SelfAddress) : ClusterExt.SelfAddress;
        if (!IsMember(address)) return new CmdFailed($"no cluster member at {address}");
        if (!address.Equals(ClusterExt.SelfAddress)) _events.ClusterMemberRemovedByOperator("leave", address.ToString(), _origin);
        ClusterExt.Leave(address);
        return Ok(new CmdAck($"{address} is leaving the cluster"));
    }

    private CmdReply Down(CmdRequest request)
    {
        if (request.Arg(0) is not { } text) return Usage("cluster down needs an address: cluster down <host:port|akka address>");
        var address = ClusterViews.ParseAddress(text, ClusterExt.SelfAddress);
        if (!IsMember(address)) return new CmdFailed($"no cluster member at {address}");
        _events.ClusterMemberRemovedByOperator("down", address.ToString(), _origin);
        ClusterExt.Down(address);
        return Ok(new CmdAck($"{address} marked down"));
    }

    private CmdReply DownUnreachable()
    {
        var unreachable = ClusterExt.State.Unreachable.Select(m => m.Address).ToList();
        foreach (var address in unreachable)
        {
            _events.ClusterMemberRemovedByOperator("down", address.ToString(), _origin);
            ClusterExt.Down(address);
        }
        return Ok(new CmdAck(unreachable.Count == 0
            ? "no unreachable members"
            : $"marked down: {string.Join(", ", unreachable)}"));
    }

    private CmdReply Join(CmdRequest request)
    {
        if (request.Arg(0) is not { } text) return Usage("cluster join needs a seed address: cluster join <host:port|akka address>");
        var address = ClusterViews.ParseAddress(text, ClusterExt.SelfAddress);
        ClusterExt.Join(address);
        return Ok(new CmdAck($"joining {address}"));
    }

    private bool IsMember(Address address) =>
        ClusterExt.State.Members.Any(m => m.Address.Equals(address)) || ClusterExt.State.Unreachable.Any(m => m.Address.Equals(address));
}
