using System.Text.Json;
using System.Text.Json.Serialization;

// Not "Flannel.Actors.Config": that namespace would hide Akka's Config type from every Flannel.Actors file.
namespace Flannel.Actors.NetConfig;

/// <summary>
/// The cluster's net-conf.json: one value for every node, replicated in DistributedData. <paramref name="Version"/> grows
/// by one with every accepted change and is the register's LWW timestamp, so a newer config always wins a merge.
/// </summary>
/// <param name="Json">The net-conf.json text as offered.</param>
/// <param name="Source">Where it came from ("configmap kube-flannel/kube-flannel-cfg@123", "file /etc/...") and which node wrote it.</param>
public sealed partial record VersionedNetConf(long Version, string Json, string Source, DateTimeOffset Written)
{
    /// <summary>The register holds this as JSON text: a string value needs no custom Akka serializer and the wire format stays explicit.</summary>
    public string ToWire() => JsonSerializer.Serialize(this, NetConfWireJson.Default.VersionedNetConf);

    public static VersionedNetConf FromWire(string wire) =>
        JsonSerializer.Deserialize(wire, NetConfWireJson.Default.VersionedNetConf)
        ?? throw new FormatException("cluster net-conf register holds null");

    /// <summary>
    /// Generated at compile time (the format reflection produced: every property, names as written): the NativeAOT form
    /// of flanneld cannot build a serializer for a record with value-type constructor parameters by reflection.
    /// </summary>
    [JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
    [JsonSerializable(typeof(VersionedNetConf))]
    private sealed partial class NetConfWireJson : JsonSerializerContext;
}
