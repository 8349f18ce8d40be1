using System.Globalization;
using System.Text.RegularExpressions;

namespace Flannel.Bench.KubeScale;

/// <summary>The agent's Kubernetes watch progress as /metrics exports it.</summary>
/// <param name="ListedAt">When the last complete list had been applied (the agent's clock: this machine's).</param>
/// <param name="ListSeconds">How long that list took inside the agent (first page asked .. every Node applied).</param>
public sealed record AgentMetrics(long Nodes, long ResourceVersion, long Lists, long Changes, DateTimeOffset? ListedAt, double? ListSeconds)
{
    /// <summary>The agent's managed heap in MiB (GC.GetTotalMemory as prometheus-net exports it); null when absent.</summary>
    public static double? HeapMib(string? text) =>
        text is null ? null : Value(text, "dotnet_total_memory_bytes") / (1024.0 * 1024.0);

    public static AgentMetrics? Parse(string? text)
    {
        if (text is null) return null;
        var nodes = Value(text, "flannel_kube_nodes");
        var lists = Value(text, "flannel_kube_node_lists_total");
        if (nodes is null || lists is null) return null;
        var changes = Regex.Matches(text, @"^flannel_kube_node_events_total\{[^}]*\} (\S+)$", RegexOptions.Multiline)
            .Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        var listed = Value(text, "flannel_kube_node_list_timestamp_seconds");
        return new AgentMetrics((long)nodes, (long)(Value(text, "flannel_kube_nodes_resource_version") ?? 0), (long)lists, (long)changes,
            listed is null ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)(listed.Value * 1000)),
            Value(text, "flannel_kube_node_list_duration_seconds"));
    }

    private static double? Value(string text, string series)
    {
        var m = Regex.Match(text, "^" + Regex.Escape(series) + @" (\S+)$", RegexOptions.Multiline);
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }
}
