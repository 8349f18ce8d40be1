using System.Globalization;
using System.Text.Json.Nodes;

namespace Flannel.Kube.TestServer;

/// <summary>The meta.k8s.io/v1 Table kubectl asks for (Accept: ...;as=Table) when printing human-readable output.</summary>
public static class TableRenderer
{
    public static JsonObject Render(ResourceType type, IEnumerable<JsonObject> items, JsonObject listMetadata)
    {
        var (columns, cells) = Columns(type);
        var columnDefs = new JsonArray();
        foreach (var (name, format) in columns)
            columnDefs.Add(new JsonObject { ["name"] = name, ["type"] = "string", ["format"] = format, ["description"] = name, ["priority"] = 0 });
        var rows = new JsonArray();
        foreach (var item in items)
        {
            var row = new JsonArray();
            foreach (var cell in cells(item)) row.Add(cell);
            rows.Add(new JsonObject
            {
                ["cells"] = row,
                ["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = item["metadata"]!.DeepClone(),
                },
            });
        }
        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = listMetadata.DeepClone(),
            ["columnDefinitions"] = columnDefs,
            ["rows"] = rows,
        };
    }

    private static ((string Name, string Format)[] Columns, Func<JsonObject, string[]> Cells) Columns(ResourceType type)
    {
        if (type == ResourceType.Nodes)
            return ([("Name", "name"), ("Status", ""), ("Roles", ""), ("Age", ""), ("Version", "")],
                n => [Name(n), NodeReady(n), "<none>", Age(n), Str(n["status"]?["nodeInfo"]?["kubeletVersion"]) ?? ""]);
        if (type == ResourceType.Pods)
            return ([("Name", "name"), ("Status", ""), ("IP", ""), ("Node", ""), ("Age", "")],
                p => [Name(p), Str(p["status"]?["phase"]) ?? "Pending", Str(p["status"]?["podIP"]) ?? "<none>", Str(p["spec"]?["nodeName"]) ?? "<none>", Age(p)]);
        if (type == ResourceType.ConfigMaps)
            return ([("Name", "name"), ("Data", ""), ("Age", "")],
                c => [Name(c), ((c["data"] as JsonObject)?.Count ?? 0).ToString(CultureInfo.InvariantCulture), Age(c)]);
        return ([("Name", "name"), ("Age", "")], o => [Name(o), Age(o)]);
    }

    private static string Name(JsonObject o) => Str(o["metadata"]?["name"]) ?? "";

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string NodeReady(JsonObject n)
    {
        var ready = (n["status"]?["conditions"] as JsonArray)?.FirstOrDefault(c => Str(c?["type"]) == "Ready");
        var status = ready is null ? "Unknown" : Str(ready["status"]) == "True" ? "Ready" : "NotReady";
        return n["spec"]?["unschedulable"] is JsonValue u && u.TryGetValue<bool>(out var b) && b ? status + ",SchedulingDisabled" : status;
    }

    private static string Age(JsonObject o)
    {
        if (!DateTime.TryParse(Str(o["metadata"]?["creationTimestamp"]), CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var created)) return "<unknown>";
        var age = DateTime.UtcNow - created;
        return age.TotalSeconds < 120 ? $"{Math.Max(0, (int)age.TotalSeconds)}s"
            : age.TotalMinutes < 120 ? $"{(int)age.TotalMinutes}m"
            : age.TotalHours < 48 ? $"{(int)age.TotalHours}h"
            : $"{(int)age.TotalDays}d";
    }
}
