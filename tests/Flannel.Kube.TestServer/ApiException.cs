using System.Text.Json.Nodes;

namespace Flannel.Kube.TestServer;

/// <summary>A failed API call; rendered as a meta/v1 Status object with the same code and reason a real API server uses.</summary>
public sealed class ApiException(int code, string reason, string message, JsonObject? details = null) : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;

    public JsonObject ToStatus() => StatusObjects.Failure(Code, Reason, Message, details?.DeepClone().AsObject());

    public static ApiException NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{type.Plural} \"{name}\" not found", Details(type, name));

    public static ApiException AlreadyExists(ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{type.Plural} \"{name}\" already exists", Details(type, name));

    public static ApiException Conflict(ResourceType type, string name) =>
        new(409, "Conflict",
            $"Operation cannot be fulfilled on {type.Plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            Details(type, name));

    public static ApiException Expired(string message) => new(410, "Expired", message);

    public static ApiException BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiException Unsupported(string message) => new(415, "UnsupportedMediaType", message);

    public static ApiException MethodNotAllowed(string message) => new(405, "MethodNotAllowed", message);

    private static JsonObject Details(ResourceType type, string name) => new() { ["name"] = name, ["kind"] = type.Plural };
}

public static class StatusObjects
{
    public static JsonObject Failure(int code, string reason, string message, JsonObject? details = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        if (details is not null) status["details"] = details;
        return status;
    }

    public static JsonObject Success(ResourceType type, string name, string? uid) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Success",
        ["details"] = new JsonObject { ["name"] = name, ["kind"] = type.Plural, ["uid"] = uid },
    };
}
