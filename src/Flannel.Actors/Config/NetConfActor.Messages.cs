using Flannel.Net.Config;

// Not "Flannel.Actors.Config": that namespace would hide Akka's Config type from every Flannel.Actors file.
namespace Flannel.Actors.NetConfig;

/// <summary>The net-conf.json in force: <paramref name="Version"/> counts accepted changes (1 = as started).</summary>
public sealed record NetConfInForce(NetConf Conf, string Json, string Source, int Version, DateTimeOffset Since);

/// <summary>Reply: <see cref="NetConfInForce"/>.</summary>
public sealed record GetNetConf
{
    public static readonly GetNetConf Instance = new();
}

/// <summary>Offer new net-conf.json text (a file change, a ConfigMap update). Reply: <see cref="NetConfAccepted"/>,
/// <see cref="NetConfUnchanged"/> or <see cref="NetConfRefused"/>; a refused config leaves the old one in force.</summary>
public sealed record ReloadNetConf(string Json, string Source);

public sealed record NetConfAccepted(NetConfInForce Current, NetConf Previous);

public sealed record NetConfUnchanged(NetConfInForce Current);

public sealed record NetConfRefused(string Reason, NetConfInForce Current);
