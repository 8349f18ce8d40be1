using System.Globalization;

namespace Flannel.Host.Options;

/// <summary>One entry of --cluster-seeds: the host (name or IP) and Akka remoting port of a node that forms the cluster.</summary>
public sealed record ClusterSeed(string Host, int Port)
{
    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses "host:port", "[v6]:port" or a bare host (then <paramref name="defaultPort"/>).</summary>
    public static ClusterSeed Parse(string text, int defaultPort)
    {
        var s = text.Trim();
        if (s.Length == 0) throw new FormatException("empty seed");
        string host;
        string? portText = null;
        if (s.StartsWith('['))
        {
            var close = s.IndexOf(']');
            if (close < 0) throw new FormatException($"\"{text}\" has no closing ']'");
            host = s[1..close];
            var rest = s[(close + 1)..];
            if (rest.Length > 0)
            {
                if (!rest.StartsWith(':')) throw new FormatException($"\"{text}\" is not [host]:port");
                portText = rest[1..];
            }
        }
        else
        {
            var colon = s.LastIndexOf(':');
            if (colon >= 0 && s.IndexOf(':') != colon) { host = s; }
            else if (colon >= 0) { host = s[..colon]; portText = s[(colon + 1)..]; }
            else host = s;
        }
        if (host.Length == 0) throw new FormatException($"\"{text}\" has no host");
        var port = defaultPort;
        if (portText != null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
            throw new FormatException($"\"{text}\" has an invalid port \"{portText}\"");
        return new ClusterSeed(host, port);
    }
}
