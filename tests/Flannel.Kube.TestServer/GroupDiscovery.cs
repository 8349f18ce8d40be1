using System.Text.Json.Nodes;

namespace Flannel.Kube.TestServer;

/// <summary>
/// The named API groups (/apis/{group}/v1): their discovery entries, and where a request path addresses a resource
/// (core under /api/v1, groups under /apis/{group}/v1). Each group serves only v1, as the tutorial's objects use.
/// </summary>
public static class GroupDiscovery
{
    public static JsonObject Group(string group)
    {
        var gv = new JsonObject { ["groupVersion"] = group + "/v1", ["version"] = "v1" };
        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = new JsonArray(gv),
            ["preferredVersion"] = gv.DeepClone(),
        };
    }

    /// <summary>A discovery or OpenAPI document of a named group at <paramref name="path"/>, or null.</summary>
    public static JsonObject? Document(string path)
    {
        foreach (var g in TutorialResourceTypes.Groups)
        {
            if (path == $"/apis/{g}/v1") return DiscoveryDocuments.Resources(g);
            if (path == $"/apis/{g}") return Group(g);
            if (path == $"/openapi/v3/apis/{g}/v1") return OpenApiDocuments.ForGroup(g);
        }
        return null;
    }

    /// <summary>
    /// Splits a resource path into its group ("" = core) and the segments after the version, or null when it addresses no
    /// served group version (the caller answers 404).
    /// </summary>
    public static (string Group, string[] Segments)? Resource(string path)
    {
        if (path.StartsWith("/api/v1/", StringComparison.Ordinal)) return ("", path["/api/v1/".Length..].Split('/'));
        foreach (var g in TutorialResourceTypes.Groups)
        {
            var prefix = $"/apis/{g}/v1/";
            if (path.StartsWith(prefix, StringComparison.Ordinal)) return (g, path[prefix.Length..].Split('/'));
        }
        return null;
    }
}
