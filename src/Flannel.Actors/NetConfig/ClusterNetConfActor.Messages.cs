using Flannel.Net.Config;

// Not "Flannel.Actors.Config": that namespace would hide Akka's Config type from every Flannel.Actors file.
namespace Flannel.Actors.NetConfig;

/// <summary>
/// Offer net-conf.json text for the whole cluster (the ConfigMap changed, the mounted file changed). With
/// <paramref name="OnlyIfUnset"/> it is written only when the cluster has no config yet (a node's file at start must not
/// overwrite a newer cluster config). Reply: <see cref="NetConfProposalResult"/>.
/// </summary>
public sealed record ProposeNetConf(string Json, string Source, bool OnlyIfUnset = false);

/// <summary><paramref name="Outcome"/>: "written", "unchanged" or "refused" (then <paramref name="Reason"/> says why).</summary>
public sealed record NetConfProposalResult(string Outcome, string? Reason = null);

/// <summary>Published on the event stream when an offered config is refused (the host turns it into a Kubernetes Event).</summary>
public sealed record ClusterNetConfRefused(string Source, string Reason);

/// <summary>Sent to the node agent (which has the backend switcher swap the data plane): bring the node to
/// <paramref name="Conf"/>. Reply: <see cref="ClusterNetConfApplied"/>.</summary>
public sealed record ApplyClusterNetConf(VersionedNetConf Config, NetConf Conf, NetConf Previous);

/// <summary>The node agent's answer; <paramref name="Error"/> null = the node runs <see cref="ApplyClusterNetConf.Conf"/> now.
/// Also published on the event stream.</summary>
public sealed record ClusterNetConfApplied(long Version, string BackendType, string? Error, double DurationMs);

/// <summary>Reply: <see cref="ClusterNetConfStatus"/> (what `flanneld ctl config show` prints).</summary>
public sealed record GetClusterNetConf
{
    public static readonly GetClusterNetConf Instance = new();
}

/// <param name="Latest">The cluster's newest config as replicated here (null before any was written).</param>
/// <param name="AppliedVersion">The version this node last dealt with (applied, or refused as unusable).</param>
/// <param name="InForce">What this node runs, with the cluster version it came from.</param>
public sealed record ClusterNetConfStatus(VersionedNetConf? Latest, long AppliedVersion, NetConfInForce InForce);

/// <summary>The net-conf.json this node runs.</summary>
/// <param name="Version">The cluster version it is (the one the logs print); 0 = the node's own file at start, before
/// the cluster config was seen.</param>
/// <param name="Source">Where the text came from (for a cluster version: who offered it, via which node).</param>
public sealed record NetConfInForce(NetConf Conf, string Json, string Source, long Version, DateTimeOffset Since)
{
    /// <summary>The config a node starts with (its file or ConfigMap), before it knows the cluster's.</summary>
    public static NetConfInForce AtStart(NetConf conf, string json, string source) => new(conf, json, source, 0, DateTimeOffset.UtcNow);

    /// <summary>Cluster version <paramref name="config"/>, parsed as <paramref name="conf"/>.</summary>
    public static NetConfInForce Of(VersionedNetConf config, NetConf conf) =>
        new(conf, config.Json, config.Source, config.Version, DateTimeOffset.UtcNow);
}
