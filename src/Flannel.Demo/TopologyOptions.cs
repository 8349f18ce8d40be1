using System.Net;

namespace Flannel.Demo;

/// <summary>How to lay out a local flannel cluster in network namespaces.</summary>
/// <param name="Prefix">Namespace name prefix; unique per run (namespaces starting with it are removed first).</param>
/// <param name="Flanneld">The flanneld executable (the agent; the CNI plugin is <see cref="CniPluginBinary"/>).</param>
public sealed record TopologyOptions(string Prefix, string Flanneld)
{
    public int Hosts { get; init; } = 3;
    public string Backend { get; init; } = "udp";
    public IPNetwork Network { get; init; } = IPNetwork.Parse("10.244.0.0/16");
    /// <summary>The underlay: host N gets .N. A benchmarking range, so it clashes with nothing real.</summary>
    public IPNetwork Underlay { get; init; } = IPNetwork.Parse("198.18.0.0/24");
    public int ClusterPort { get; init; } = 4053;
    public int HealthPort { get; init; } = 8081;
    /// <summary>Where subnet.env, CNI data, logs and net-conf.json go.</summary>
    public string StateRoot { get; init; } = "/run/flannel-demo";
    /// <summary>More flanneld flags for every agent (e.g. --ip-masq).</summary>
    public IReadOnlyList<string> ExtraAgentArgs { get; init; } = [];
    /// <summary>Copy the agents' logs here before the state directory is removed; null = drop them.</summary>
    public string? KeepLogsIn { get; init; }
    /// <summary>The net-conf.json text; null = Network with the backend's defaults.</summary>
    public string? NetConfJson { get; init; }

    public string DefaultNetConf() => "{\"Network\":\"" + Network + "\",\"Backend\":{\"Type\":\"" + Backend + "\"}}";
}
