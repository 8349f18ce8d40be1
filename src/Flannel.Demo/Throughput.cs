using System.Globalization;
using System.Text.Json.Nodes;

namespace Flannel.Demo;

/// <summary>iperf3 between two pods: server in one, a short TCP run from the other; returns bits per second received.</summary>
public static class Throughput
{
    /// <summary>One retry: a first run can fail on a busy machine (server not listening yet, first packets lost).</summary>
    public static double Measure(ClusterTopology topology, Pod server, Pod client, int seconds = 3)
    {
        try
        {
            return MeasureOnce(topology, server, client, seconds);
        }
        catch (InvalidOperationException)
        {
            return MeasureOnce(topology, server, client, seconds);
        }
    }

    private static double MeasureOnce(ClusterTopology topology, Pod server, Pod client, int seconds)
    {
        var log = Path.Combine(topology.StateDir, "iperf3-server.log");
        var p = topology.StartInNamespace(server.Namespace, "iperf3", ["-s", "-1", "-B", server.Address.ToString()], log);
        try
        {
            // The server needs a moment to listen: retry while the client reports an error instead of sleeping a fixed
            // time (iperf3 -J may exit 0 with only an "error" member when it could not connect).
            var error = "";
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            do
            {
                var r = Netns.Exec(client.Namespace, "iperf3",
                    ["-c", server.Address.ToString(), "-t", seconds.ToString(CultureInfo.InvariantCulture), "-J"],
                    TimeSpan.FromSeconds(seconds + 20));
                if (Received(r.Stdout) is { } bps) return bps;
                error = $"{Error(r.Stdout)} {r.Stderr.Trim()}".Trim();
                if (p.HasExited) break;
                Thread.Sleep(200);
            }
            while (DateTime.UtcNow < deadline);
            throw new InvalidOperationException($"iperf3 {client} -> {server} failed: {(error.Length > 0 ? error : "no result")}");
        }
        finally
        {
            if (!p.HasExited)
            {
                p.Kill();
                p.WaitForExit(2000);
            }
        }
    }

    private static double? Received(string json)
    {
        try { return JsonNode.Parse(json)?["end"]?["sum_received"]?["bits_per_second"]?.GetValue<double>(); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    private static string Error(string json)
    {
        try { return JsonNode.Parse(json)?["error"]?.GetValue<string>() ?? ""; }
        catch (System.Text.Json.JsonException) { return json.Trim(); }
    }

    public static string Format(double bps) =>
        bps >= 1e9 ? (bps / 1e9).ToString("0.0", CultureInfo.InvariantCulture) + " Gbit/s"
                   : (bps / 1e6).ToString("0", CultureInfo.InvariantCulture) + " Mbit/s";
}
