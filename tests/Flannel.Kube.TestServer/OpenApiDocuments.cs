using System.Text.Json.Nodes;

namespace Flannel.Kube.TestServer;

/// <summary>
/// The smallest OpenAPI v3 surface kubectl needs: for kubectl edit/patch/apply with the default --validate=strict it
/// looks for the fieldValidation query parameter on the PATCH operation of the kind. When it is found, validation is
/// left to the server and no client-side schema is needed; without it, kubectl refuses the edit as "invalid".
/// </summary>
public static class OpenApiDocuments
{
    public const string CoreV1Path = "/openapi/v3/api/v1";

    public static JsonObject Index()
    {
        var paths = new JsonObject { ["api/v1"] = new JsonObject { ["serverRelativeURL"] = CoreV1Path + "?hash=flannel-test" } };
        foreach (var g in TutorialResourceTypes.Groups)
            paths[$"apis/{g}/v1"] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/apis/{g}/v1?hash=flannel-test" };
        return new JsonObject { ["paths"] = paths };
    }

    public static JsonObject CoreV1() => ForGroup("");

    /// <summary>The document of a group's v1 ("" = core), served at /openapi/v3/api/v1 or /openapi/v3/apis/{group}/v1.</summary>
    public static JsonObject ForGroup(string group)
    {
        var paths = new JsonObject();
        foreach (var type in ResourceType.All.Where(t => t.Group == group))
        {
            var prefix = group.Length == 0 ? "/api/v1" : $"/apis/{group}/v1";
            var item = type.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{type.Plural}/{{name}}" : $"{prefix}/{type.Plural}/{{name}}";
            paths[item] = new JsonObject { ["patch"] = PatchOperation(type, "") };
            if (type.HasStatus) paths[item + "/status"] = new JsonObject { ["patch"] = PatchOperation(type, "Status") };
        }
        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = new JsonObject() },
        };
    }

    private static JsonObject PatchOperation(ResourceType type, string suffix) => new()
    {
        ["operationId"] = $"patch{GroupWord(type.Group)}V1{(type.Namespaced ? "Namespaced" : "")}{type.Kind}{suffix}",
        ["x-kubernetes-action"] = "patch",
        ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = type.Group, ["version"] = "v1", ["kind"] = type.Kind },
        ["parameters"] = new JsonArray(
            new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
            new JsonObject { ["name"] = "fieldManager", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
            new JsonObject { ["name"] = "dryRun", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } }),
        ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
    };

    private static string GroupWord(string group) => group.Length == 0 ? "Core" : char.ToUpperInvariant(group[0]) + group.Split('.')[0][1..];
}
