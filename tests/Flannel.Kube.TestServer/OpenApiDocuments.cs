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

    public static JsonObject Index() => new()
    {
        ["paths"] = new JsonObject
        {
            ["api/v1"] = new JsonObject { ["serverRelativeURL"] = CoreV1Path + "?hash=flannel-test" },
        },
    };

    public static JsonObject CoreV1()
    {
        var paths = new JsonObject();
        foreach (var type in ResourceType.All)
        {
            var item = type.Namespaced ? $"/api/v1/namespaces/{{namespace}}/{type.Plural}/{{name}}" : $"/api/v1/{type.Plural}/{{name}}";
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
        ["operationId"] = $"patchCoreV1{(type.Namespaced ? "Namespaced" : "")}{type.Kind}{suffix}",
        ["x-kubernetes-action"] = "patch",
        ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = "", ["version"] = "v1", ["kind"] = type.Kind },
        ["parameters"] = new JsonArray(
            new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
            new JsonObject { ["name"] = "fieldManager", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
            new JsonObject { ["name"] = "dryRun", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } }),
        ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
    };
}
