namespace Flannel.Actors.Kubernetes;

/// <summary>Timing of a list-then-watch loop.</summary>
/// <param name="InitialBackoff">Delay after the first failed list or watch; doubled on every further failure.</param>
/// <param name="MaxBackoff">Upper bound of the reconnect delay.</param>
/// <param name="WatchTimeoutSeconds">Asked of the server so it ends each watch cleanly; the loop then resumes from the last version.</param>
/// <param name="ListPageSize">Page size of the (re)list, so very large clusters are read in chunks.</param>
public sealed record KubeWatchOptions(
    TimeSpan InitialBackoff,
    TimeSpan MaxBackoff,
    int WatchTimeoutSeconds = 300,
    int ListPageSize = 500)
{
    /// <summary>
    /// How long one list page may take. A request written on a pooled connection while the API server was cut off waits
    /// on TCP's retransmission backoff (a minute or more after the heal) or the HTTP client's 100 s timeout; abandoning
    /// it closes that connection and the retry opens a fresh one. The API server itself ends requests after 60 s.
    /// </summary>
    public TimeSpan ListTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public static KubeWatchOptions Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
}
