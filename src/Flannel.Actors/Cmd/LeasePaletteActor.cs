using System.Net;
using Akka.Actor;
using Akka.Cluster;

namespace Flannel.Actors.Cmd;

/// <summary>
/// The `lease` palette: list, show &lt;subnet|node&gt;, release &lt;subnet&gt; [--force]. Releasing the lease of a node
/// that is alive in the cluster is refused without --force: that node would keep routing a subnet someone else may
/// take. (The confirmation prompt is the client's job; this guard lives here so every transport gets it; the lease
/// allocator applies the same rule by the lease's owner address, and logs every release of another node's lease.)
/// </summary>
public sealed class LeasePaletteActor : PaletteActor
{
    private readonly CmdContext _ctx;
    private readonly Cluster? _cluster = ClusterViews.IsClustered(Context.System) ? Cluster.Get(Context.System) : null;

    public LeasePaletteActor(CmdContext ctx) : base("lease") => _ctx = ctx;

    public static Props Props(CmdContext ctx) => Akka.Actor.Props.Create(() => new LeasePaletteActor(ctx));

    protected override IReadOnlyList<string> Commands { get; } = ["list", "show <subnet|node>", "release <subnet> [--force]"];

    protected override async Task<CmdReply> HandleAsync(CmdRequest request)
    {
        if (request.Command is not ("list" or "show" or "release")) return Unknown(request);
        if (_ctx.Leases is null) return new CmdFailed("the lease table is not available on this agent");
        return request.Command switch
        {
            "list" => Ok(new LeaseListView(_ctx.NodeName, await Rows())),
            "show" => await Show(request),
            _ => await Release(request),
        };
    }

    private async Task<CmdReply> Show(CmdRequest request)
    {
        if (request.Arg(0) is not { } key) return Usage("lease show needs a subnet or a node name: lease show <subnet|node>");
        var rows = await Rows();
        var matches = IPNetwork.TryParse(key, out var subnet)
            ? rows.Where(r => r.Subnet == subnet.ToString()).ToList()
            : rows.Where(r => string.Equals(r.Node, key, StringComparison.OrdinalIgnoreCase)).ToList();
        return matches.Count == 0
            ? new CmdFailed($"no lease for '{key}'")
            : Ok(new LeaseListView(_ctx.NodeName, matches));
    }

    private async Task<CmdReply> Release(CmdRequest request)
    {
        if (request.Arg(0) is not { } key) return Usage("lease release needs a subnet: lease release <subnet>");
        if (!IPNetwork.TryParse(key, out var subnet))
            return Usage($"lease release: '{key}' is not a subnet (expected CIDR like 10.5.1.0/24)");
        var lease = (await Rows()).FirstOrDefault(r => r.Subnet == subnet.ToString());
        if (lease is null) return new CmdFailed($"no lease for {subnet}");
        if (lease.Source != LeaseRow.LeaseSource)
            return new CmdFailed($"{subnet} of {lease.Node} comes from its Node's {lease.Source}, not from our lease table: nothing to release");
        if (lease.Live && !request.Has("force"))
            return new CmdFailed(
                $"{subnet} is held by {lease.Node} ({lease.PublicIp}), which is alive in the cluster; " +
                "releasing it would let another node take a subnet still in use. Use --force to release anyway.",
                CmdExitCodes.NotConfirmed);
        using var cts = new CancellationTokenSource(_ctx.SourceTimeout);
        var failure = await _ctx.Leases!.ReleaseAsync(subnet, request.Has("force"), cts.Token);
        return failure is null
            ? Ok(new CmdAck($"released {subnet} (was held by {lease.Node})"))
            : new CmdFailed($"releasing {subnet} failed: {failure}");
    }

    private async Task<IReadOnlyList<LeaseRow>> Rows()
    {
        using var cts = new CancellationTokenSource(_ctx.SourceTimeout);
        var entries = await _ctx.Leases!.ListAsync(cts.Token);
        var state = _cluster?.State;
        var isLive = _ctx.IsLive ?? LeaseLiveness.IsLive;
        return entries
            .OrderBy(e => e.Subnet.BaseAddress.GetAddressBytes(), ByteOrder.Instance)
            .Select(e =>
            {
                var row = new LeaseRow(e.Subnet.ToString(), e.Node, e.PublicIp.ToString(), e.BackendType, e.BackendData,
                    e.Expiration, e.Version, Live: false, Own: string.Equals(e.Node, _ctx.NodeName, StringComparison.Ordinal), e.Source);
                return row with { Live = row.Source == LeaseRow.LeaseSource && state is not null && isLive(row, state) };
            })
            .ToList();
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
