namespace Flannel.Host.Security;

/// <summary>
/// Keeps refused-connection logs readable under a flood: the first refusal of a peer host is reported at once, later
/// ones at most once per <see cref="Window"/> with the number held back meanwhile. The table of hosts is bounded:
/// when full, it is cleared (a flood of distinct sources then logs at most <see cref="MaxHosts"/> lines per clear).
/// Thread-safe: TLS callbacks run on the transport's threads.
/// </summary>
public sealed class RefusalThrottle(TimeSpan window, int maxHosts = RefusalThrottle.DefaultMaxHosts)
{
    public const int DefaultMaxHosts = 1024;

    private readonly Dictionary<string, (DateTime Reported, int Suppressed)> _hosts = new(StringComparer.Ordinal);

    public TimeSpan Window { get; } = window;
    public int MaxHosts { get; } = maxHosts;

    /// <summary>True when this refusal should be logged; <paramref name="suppressed"/> = refusals held back since the last report.</summary>
    public bool ShouldReport(string host, DateTime now, out int suppressed)
    {
        lock (_hosts)
        {
            if (_hosts.TryGetValue(host, out var entry) && now - entry.Reported < Window)
            {
                _hosts[host] = entry with { Suppressed = entry.Suppressed + 1 };
                suppressed = 0;
                return false;
            }
            if (!_hosts.ContainsKey(host) && _hosts.Count >= MaxHosts) _hosts.Clear();
            suppressed = _hosts.TryGetValue(host, out var old) ? old.Suppressed : 0;
            _hosts[host] = (now, 0);
            return true;
        }
    }

    /// <summary>"198.18.0.200:41234" -> "198.18.0.200"; "[fd00::1]:4053" -> "[fd00::1]"; an Akka address stays whole.</summary>
    public static string HostOf(string peer)
    {
        var colon = peer.LastIndexOf(':');
        if (colon <= 0 || peer.Contains("://", StringComparison.Ordinal)) return peer;
        var port = peer.AsSpan(colon + 1);
        foreach (var c in port)
            if (!char.IsAsciiDigit(c)) return peer;
        return port.Length == 0 ? peer : peer[..colon];
    }
}
