using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flannel.Net.SubnetEnv;

namespace Flannel.Cni;

/// <summary>
/// Renders the delegate plugin's config from the flannel config and subnet.env, with flannel's rules: the user's delegate
/// keys win, flannel fills name, type (bridge), ipMasq (!FLANNEL_IPMASQ), mtu, isGateway (bridge), cniVersion and ipam.
/// </summary>
public static class DelegateConfig
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonObject Render(FlannelNetConf conf, SubnetEnv env)
    {
        var d = conf.Delegate is { } user ? (JsonObject)user.DeepClone() : new JsonObject();
        if (d["type"] is { } t && !(t is JsonValue v && v.TryGetValue<string>(out _)))
            throw new CniException(CniErrorCodes.InvalidNetworkConfig, "'delegate' dictionary, if present, must have (string) 'type' field");
        if (d.ContainsKey("name"))
            throw new CniException(CniErrorCodes.InvalidNetworkConfig, "'delegate' dictionary must not have 'name' field, it'll be set by flannel");
        if (d.ContainsKey("ipam"))
            throw new CniException(CniErrorCodes.InvalidNetworkConfig, "'delegate' dictionary must not have 'ipam' field, it'll be set by flannel");
        if (conf.RuntimeConfig is { } rc) d["runtimeConfig"] = rc.DeepClone();

        d["name"] = conf.Name;
        if (!d.ContainsKey("type")) d["type"] = "bridge";
        // When flanneld does not masquerade (FLANNEL_IPMASQ=false) the bridge has to.
        if (!d.ContainsKey("ipMasq")) d["ipMasq"] = !env.IpMasq;
        if (!d.ContainsKey("mtu")) d["mtu"] = env.Mtu;
        if (d["type"]!.GetValue<string>() == "bridge" && !d.ContainsKey("isGateway")) d["isGateway"] = true;
        if (conf.CniVersion.Length > 0) d["cniVersion"] = conf.CniVersion;
        d["ipam"] = RenderIpam(conf, env);
        return d;
    }

    /// <summary>Compact JSON with keys sorted at every level: byte-identical to what flannel's Go plugin stores.</summary>
    public static string Serialize(JsonNode node) => Sorted(node)!.ToJsonString(Compact);

    private static JsonObject RenderIpam(FlannelNetConf conf, SubnetEnv env)
    {
        var ipam = conf.Ipam is { } user ? (JsonObject)user.DeepClone() : new JsonObject();
        if (!ipam.ContainsKey("type")) ipam["type"] = "host-local";

        // JsonNode-typed adds only: the generic JsonArray.Add<T> is not trim/AOT-safe.
        var ranges = new JsonArray(new JsonArray(new JsonObject { ["subnet"] = env.Lease.ToString() }));
        if (env.Ipv6SubnetAddress is { } v6)
            ranges.Add((JsonNode)new JsonArray(new JsonObject { ["subnet"] = MaskedNetwork(v6, env.Ipv6SubnetPrefix) }));
        ipam["ranges"] = ranges;

        var routes = new JsonArray();
        if (ipam["routes"] is { } userRoutes)
        {
            if (userRoutes is not JsonArray list || list.Any(r => r is not JsonObject ro || !IsCidr(ro["dst"])))
                throw new CniException(CniErrorCodes.InvalidNetworkConfig,
                    "failed to assemble Delegate IPAM: failed to read IPAM routes: ipam.routes must be a list of {\"dst\": CIDR, \"gw\": IP}");
            foreach (var r in list) routes.Add((JsonNode?)r!.DeepClone());
        }
        routes.Add((JsonNode)new JsonObject { ["dst"] = env.Network.ToString() });
        if (env.Ipv6Network is { } v6net) routes.Add((JsonNode)new JsonObject { ["dst"] = v6net.ToString() });
        ipam["routes"] = routes;
        return ipam;
    }

    private static bool IsCidr(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) && IPNetwork.TryParse(MaskText(s), out _);

    // The kernel and the CNI plugins accept a dst with host bits set; IPNetwork does not, so mask before validating.
    private static string MaskText(string cidr)
    {
        var slash = cidr.IndexOf('/');
        return slash > 0 && IPAddress.TryParse(cidr[..slash], out var a) && int.TryParse(cidr[(slash + 1)..], out var p)
            ? MaskedNetwork(a, p) : cidr;
    }

    private static string MaskedNetwork(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
            bytes[i] &= (byte)(0xFF << (8 - Math.Clamp(prefix - i * 8, 0, 8)));
        return $"{new IPAddress(bytes)}/{prefix}";
    }

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };
}
