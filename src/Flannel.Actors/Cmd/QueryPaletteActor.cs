using Akka.Actor;

namespace Flannel.Actors.Cmd;

/// <summary>
/// A read-only palette whose commands each call one source of the agent (routes, peers, config, backend).
/// </summary>
public sealed class QueryPaletteActor : PaletteActor
{
    private readonly IReadOnlyDictionary<string, Func<CancellationToken, Task<object>>?> _queries;
    private readonly TimeSpan _timeout;

    public QueryPaletteActor(string palette, IReadOnlyDictionary<string, Func<CancellationToken, Task<object>>?> queries, TimeSpan timeout)
        : base(palette)
    {
        _queries = queries;
        _timeout = timeout;
        Commands = queries.Keys.ToList();
    }

    public static Props Props(string palette, IReadOnlyDictionary<string, Func<CancellationToken, Task<object>>?> queries, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new QueryPaletteActor(palette, queries, timeout));

    protected override IReadOnlyList<string> Commands { get; }

    protected override async Task<CmdReply> HandleAsync(CmdRequest request)
    {
        if (!_queries.TryGetValue(request.Command, out var query)) return Unknown(request);
        if (query is null) return new CmdFailed($"'{Palette} {request.Command}' is not available on this agent");
        using var cts = new CancellationTokenSource(_timeout);
        try
        {
            // WaitAsync also covers sources that ignore the token.
            return Ok(await query(cts.Token).WaitAsync(_timeout));
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && cts.IsCancellationRequested))
        {
            return new CmdFailed($"'{Palette} {request.Command}' got no answer within {_timeout.TotalSeconds:0.#} s");
        }
    }
}
