using System.Text.Json.Nodes;

namespace Flannel.Kube.TestServer;

/// <summary>The discovery documents clients read before anything else (legacy, non-aggregated discovery).</summary>
public static class DiscoveryDocuments
{
    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.0-flannel-test",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2026-01-01T00:00:00Z",
        ["goVersion"] = "go1.23",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject ApiVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject ApiGroups() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(TutorialResourceTypes.Groups.Select(g => (JsonNode)GroupDiscovery.Group(g)).ToArray()),
    };

    public static JsonObject CoreV1Resources() => Resources("");

    /// <summary>The APIResourceList of a group's v1 ("" = core).</summary>
    public static JsonObject Resources(string group)
    {
        var resources = new JsonArray();
        foreach (var type in ResourceType.All.Where(t => t.Group == group))
        {
            resources.Add(new JsonObject
            {
                ["name"] = type.Plural,
                ["singularName"] = type.Kind.ToLowerInvariant(),
                ["namespaced"] = type.Namespaced,
                ["kind"] = type.Kind,
                ["verbs"] = new JsonArray(type.Verbs.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()),
                ["shortNames"] = new JsonArray(type.ShortNames.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()),
                ["storageVersionHash"] = type.Kind,
            });
            if (type.HasStatus)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = type.Plural + "/status",
                    ["singularName"] = "",
                    ["namespaced"] = type.Namespaced,
                    ["kind"] = type.Kind,
                    ["verbs"] = new JsonArray("get", "patch", "update"),
                });
            }
        }
        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? "v1" : group + "/v1",
            ["resources"] = resources,
        };
    }
}
