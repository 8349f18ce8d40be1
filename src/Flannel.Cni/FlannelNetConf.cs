using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flannel.Cni;

/// <summary>
/// The `flannel` plugin's network configuration (flannel-io/cni-plugin's NetConf). The delegate/ipam/runtimeConfig objects
/// are kept as JSON so that whatever the user sets is passed through to the delegate untouched.
/// </summary>
public sealed record FlannelNetConf(
    string Name,
    string CniVersion,
    string SubnetFile,
    string DataDir,
    JsonObject? Delegate,
    JsonObject? Ipam,
    JsonObject? RuntimeConfig,
    JsonNode? PrevResult)
{
    public const string DefaultSubnetFile = "/run/flannel/subnet.env";
    public const string DefaultDataDir = "/var/lib/cni/flannel";

    /// <summary>
    /// Parses the config a runtime writes on stdin. A whole conflist ({"plugins":[...]}) is accepted too: the `flannel`
    /// entry is taken and the list's name/cniVersion injected, as runtimes do before calling a plugin.
    /// </summary>
    public static FlannelNetConf Parse(ReadOnlySpan<byte> json)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject
                ?? throw new CniException(CniErrorCodes.DecodingFailure, "failed to load netconf: the configuration is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCodes.DecodingFailure, $"failed to load netconf: {e.Message}");
        }

        if (root["plugins"] is JsonArray plugins && root["type"] is null)
        {
            var plugin = plugins.OfType<JsonObject>().FirstOrDefault(p => p["type"] is JsonValue t && t.TryGetValue<string>(out var s) && s == "flannel")
                ?? throw new CniException(CniErrorCodes.InvalidNetworkConfig, "conflist has no plugin of type \"flannel\"");
            var single = (JsonObject)plugin.DeepClone();
            single["name"] = root["name"]?.DeepClone();
            single["cniVersion"] = root["cniVersion"]?.DeepClone();
            root = single;
        }

        return new FlannelNetConf(
            Name: String(root, "name") ?? throw new CniException(CniErrorCodes.InvalidNetworkConfig, "network configuration has no \"name\""),
            CniVersion: String(root, "cniVersion") ?? "",
            SubnetFile: String(root, "subnetFile") ?? DefaultSubnetFile,
            DataDir: String(root, "dataDir") ?? DefaultDataDir,
            Delegate: Object(root, "delegate"),
            Ipam: Object(root, "ipam"),
            RuntimeConfig: Object(root, "runtimeConfig"),
            PrevResult: root["prevResult"]?.DeepClone());
    }

    private static string? String(JsonObject o, string key) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length > 0 ? s : null,
        _ => throw new CniException(CniErrorCodes.DecodingFailure, $"failed to load netconf: \"{key}\" must be a string"),
    };

    private static JsonObject? Object(JsonObject o, string key) => o[key] switch
    {
        null => null,
        JsonObject obj => (JsonObject)obj.DeepClone(),
        _ => throw new CniException(CniErrorCodes.DecodingFailure, $"failed to load netconf: \"{key}\" must be an object"),
    };
}
