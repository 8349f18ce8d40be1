using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Kubernetes;

/// <summary>What this agent announces on its Node, exactly as flannel does so existing tools keep working.</summary>
/// <param name="BackendData">Raw JSON (e.g. {"VNI":1,"VtepMAC":"..."}) or null.</param>
public sealed record NodeAnnouncement(string BackendType, string? BackendData, IPAddress PublicIp);

/// <summary>
/// Publishes the flannel annotations (backend-type, backend-data, kube-subnet-manager="true", public-ip) and the
/// NetworkUnavailable=False condition on a Node. Both are strategic-merge patches of the nodes/status subresource,
/// the only node write flannel's RBAC grants; nothing is written when the node already carries the values.
/// </summary>
public sealed class NodeAnnotationPublisher
{
    public const string ConditionType = "NetworkUnavailable";
    public const string ConditionReason = "FlannelIsUp";
    public const string ConditionMessage = "Flannel is running on this node";

    private readonly IKubernetes _client;
    private readonly string _prefix;
    private readonly ILogger _log;

    public NodeAnnotationPublisher(IKubernetes client, ILogger log, string annotationPrefix = "flannel.alpha.coreos.com")
    {
        _client = client;
        _log = log;
        _prefix = annotationPrefix.TrimEnd('/') + "/";
    }

    public string Key(string name) => _prefix + name;

    /// <summary>The user-set public-ip-overwrite annotation (for nodes behind NAT), or null.</summary>
    public async Task<IPAddress?> ReadPublicIpOverwriteAsync(string nodeName, CancellationToken ct = default)
    {
        var node = await _client.CoreV1.ReadNodeAsync(name: nodeName, cancellationToken: ct);
        return PublicIpOverwrite(node);
    }

    /// <summary>
    /// Writes the annotations; public-ip-overwrite, when set on the node, wins over the given public IP.
    /// Returns the public IP that was published.
    /// </summary>
    public async Task<IPAddress> PublishAsync(string nodeName, NodeAnnouncement announcement, CancellationToken ct = default)
    {
        var node = await _client.CoreV1.ReadNodeAsync(name: nodeName, cancellationToken: ct);
        var publicIp = PublicIpOverwrite(node) ?? announcement.PublicIp;
        var wanted = new Dictionary<string, string>
        {
            [Key("backend-type")] = announcement.BackendType,
            [Key("backend-data")] = announcement.BackendData ?? "null",
            [Key("kube-subnet-manager")] = "true",
            [Key("public-ip")] = publicIp.ToString(),
        };
        var current = node.Metadata?.Annotations ?? new Dictionary<string, string>();
        var changed = wanted.Where(kv => !current.TryGetValue(kv.Key, out var v) || v != kv.Value).ToDictionary(kv => kv.Key, kv => kv.Value);
        if (changed.Count == 0) return publicIp;

        // JsonNode trees, not anonymous types: no reflection serializer needed (the NativeAOT form of flanneld).
        var annotations = new JsonObject();
        foreach (var (key, value) in changed) annotations[key] = value;
        var patch = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = annotations } }.ToJsonString();
        await _client.CoreV1.PatchNodeStatusAsync(body: new V1Patch(patch, V1Patch.PatchType.StrategicMergePatch), name: nodeName, cancellationToken: ct);
        _log.LogInformation("Published flannel annotations on node {NodeName}: backend {BackendType}, public IP {PublicIp}",
            nodeName, announcement.BackendType, publicIp);
        return publicIp;
    }

    /// <summary>Sets NetworkUnavailable=False (reason FlannelIsUp) once the data plane is ready; a no-op when already set.</summary>
    public async Task MarkNetworkAvailableAsync(string nodeName, CancellationToken ct = default)
    {
        var node = await _client.CoreV1.ReadNodeAsync(name: nodeName, cancellationToken: ct);
        var existing = node.Status?.Conditions?.FirstOrDefault(c => c.Type == ConditionType);
        if (existing is { Status: "False", Reason: ConditionReason }) return;

        var now = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var condition = new JsonObject
        {
            ["type"] = ConditionType, ["status"] = "False", ["reason"] = ConditionReason, ["message"] = ConditionMessage,
            ["lastTransitionTime"] = now, ["lastHeartbeatTime"] = now,
        };
        var patch = new JsonObject { ["status"] = new JsonObject { ["conditions"] = new JsonArray(condition) } }.ToJsonString();
        await _client.CoreV1.PatchNodeStatusAsync(body: new V1Patch(patch, V1Patch.PatchType.StrategicMergePatch), name: nodeName, cancellationToken: ct);
        _log.LogInformation("Set condition {Condition}=False ({Reason}) on node {NodeName}", ConditionType, ConditionReason, nodeName);
    }

    private IPAddress? PublicIpOverwrite(V1Node node)
    {
        if (node.Metadata?.Annotations is null || !node.Metadata.Annotations.TryGetValue(Key("public-ip-overwrite"), out var text) || string.IsNullOrWhiteSpace(text))
            return null;
        if (IPAddress.TryParse(text.Trim(), out var ip)) return ip;
        throw new FormatException($"node {node.Metadata.Name}: annotation {Key("public-ip-overwrite")} = \"{text}\" is not an IP address");
    }
}
