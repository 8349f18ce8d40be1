using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Options;

/// <summary>Parsers for flag values, in the forms flannel (Go's flag package) accepts.</summary>
internal static class ValueParsers
{
    /// <summary>Go's strconv.ParseBool forms, used for FLANNELD_* booleans.</summary>
    public static bool TryParseGoBool(string text, out bool value)
    {
        switch (text.Trim())
        {
            case "1": case "t": case "T": case "true": case "TRUE": case "True":
                value = true; return true;
            case "0": case "f": case "F": case "false": case "FALSE": case "False":
                value = false; return true;
            default:
                value = false; return false;
        }
    }

    /// <summary>A duration: a bare number is seconds (flannel's --iptables-resync is an int), or Go style "500ms", "5s", "1m", "1h".</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        var s = text.Trim();
        value = default;
        if (s.Length == 0) return false;
        if (long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var secs))
        {
            value = TimeSpan.FromSeconds(secs);
            return true;
        }
        (string Suffix, double Ms)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
        foreach (var (suffix, ms) in units)
        {
            if (!s.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var num = s[..^suffix.Length];
            if (suffix == "s" && num.EndsWith('m')) continue; // "ms" handled first; guards odd forms like "5mss"
            if (double.TryParse(num, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) && n >= 0)
            {
                value = TimeSpan.FromMilliseconds(n * ms);
                return true;
            }
            return false;
        }
        return false;
    }

    /// <summary>Dotted quad only, like Go's net.ParseIP: inet_aton shorthands such as "1.2.3" are typos, not addresses.</summary>
    public static bool TryParseIPv4(string text, out IPAddress address)
    {
        var s = text.Trim();
        address = IPAddress.None;
        if (s.Split('.').Length != 4 || !IPAddress.TryParse(s, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetwork)
            return false;
        address = parsed;
        return true;
    }

    public static bool TryParseLogLevel(string text, out LogLevel level)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "trace": level = LogLevel.Trace; return true;
            case "debug": level = LogLevel.Debug; return true;
            case "info": case "information": level = LogLevel.Information; return true;
            case "warn": case "warning": level = LogLevel.Warning; return true;
            case "error": level = LogLevel.Error; return true;
            case "critical": case "fatal": level = LogLevel.Critical; return true;
            case "none": level = LogLevel.None; return true;
            default: level = LogLevel.Information; return false;
        }
    }
}
