namespace Flannel.Host.Ctl;

/// <summary>
/// What one local client can make the command host hold. Every ctl call is one short connection (`cluster tail` holds
/// one while it runs), so these only bite on a client that opens connections in a loop, never sends its request, or
/// sends an endless line: it then pins at most <see cref="MaxConnections"/> sockets and request buffers.
/// </summary>
public sealed record CommandHostLimits
{
    /// <summary>
    /// 16 open connections: room for an operator's `cluster tail` in a few terminals plus scripts and probes polling
    /// `status`, while bounding what a runaway or hostile local client pins (sockets, tasks, request buffers).
    /// </summary>
    public const int DefaultMaxConnections = 16;

    public static CommandHostLimits Default { get; } = new();

    public int MaxConnections { get; init; } = DefaultMaxConnections;

    /// <summary>A client must send its whole request line within this time, or it is told so and closed.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A longer request line is refused (a request is a handful of words).</summary>
    public int MaxRequestBytes { get; init; } = CtlWire.MaxRequestBytes;
}
