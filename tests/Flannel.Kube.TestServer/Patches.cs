using System.Text.Json.Nodes;

namespace Flannel.Kube.TestServer;

/// <summary>JSON merge patch (RFC 7386), Kubernetes strategic merge patch (the subset used for core objects) and JSON patch (RFC 6902).</summary>
public static class Patches
{
    public const string MergePatch = "application/merge-patch+json";
    public const string StrategicMergePatch = "application/strategic-merge-patch+json";
    public const string JsonPatch = "application/json-patch+json";

    // patchMergeKey of the core/v1 lists a strategic patch merges instead of replacing.
    private static readonly Dictionary<string, string> MergeKeys = new()
    {
        ["conditions"] = "type",
        ["addresses"] = "type",
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["env"] = "name",
        ["volumes"] = "name",
        ["volumeMounts"] = "mountPath",
        ["imagePullSecrets"] = "name",
        ["ownerReferences"] = "uid",
        ["tolerations"] = "key",
    };

    public static JsonObject Apply(string contentType, JsonObject target, JsonNode patch) => contentType switch
    {
        MergePatch => Merge(target, patch) as JsonObject ?? throw ApiException.BadRequest("merge patch must be a JSON object"),
        StrategicMergePatch => Strategic(target, patch) as JsonObject ?? throw ApiException.BadRequest("strategic merge patch must be a JSON object"),
        JsonPatch => ApplyJsonPatch(target, patch),
        _ => throw ApiException.Unsupported($"the body of the request was in an unknown format - accepted media types include: {JsonPatch}, {MergePatch}, {StrategicMergePatch}"),
    };

    public static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObj) return patch?.DeepClone();
        var result = target is JsonObject t ? t.DeepClone().AsObject() : new JsonObject();
        foreach (var (key, value) in patchObj)
        {
            if (value is null) result.Remove(key);
            else result[key] = Merge(result[key], value);
        }
        return result;
    }

    public static JsonNode? Strategic(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObj) return patch?.DeepClone();
        var directive = patchObj["$patch"]?.GetValue<string>();
        if (directive == "replace")
        {
            var replaced = patchObj.DeepClone().AsObject();
            replaced.Remove("$patch");
            return replaced;
        }
        if (directive == "delete") return null;

        var result = target is JsonObject t ? t.DeepClone().AsObject() : new JsonObject();
        foreach (var (key, value) in patchObj)
        {
            // Ordering hints and retain-keys directives do not change the stored content here.
            if (key.StartsWith('$')) continue;
            if (value is null) { result.Remove(key); continue; }
            if (value is JsonArray patchList && MergeKeys.TryGetValue(key, out var mergeKey) && patchList.All(i => i is JsonObject))
            {
                result[key] = MergeList(result[key] as JsonArray, patchList, mergeKey);
                continue;
            }
            var merged = Strategic(result[key], value);
            if (merged is null) result.Remove(key);
            else result[key] = merged;
        }
        return result;
    }

    private static JsonArray MergeList(JsonArray? target, JsonArray patch, string mergeKey)
    {
        var items = target?.Select(i => i!.DeepClone()).ToList() ?? new List<JsonNode>();
        foreach (var patchItem in patch.Cast<JsonObject>())
        {
            var keyValue = patchItem[mergeKey]?.ToJsonString();
            if (keyValue is null) throw ApiException.BadRequest($"map: {patchItem.ToJsonString()} does not contain declared merge key: {mergeKey}");
            var index = items.FindIndex(i => i[mergeKey]?.ToJsonString() == keyValue);
            var delete = patchItem["$patch"]?.GetValue<string>() == "delete";
            if (delete)
            {
                if (index >= 0) items.RemoveAt(index);
                continue;
            }
            if (index >= 0) items[index] = Strategic(items[index], patchItem)!;
            else items.Add(Strategic(null, patchItem)!);
        }
        var array = new JsonArray();
        foreach (var item in items) array.Add(item);
        return array;
    }

    private static JsonObject ApplyJsonPatch(JsonObject target, JsonNode patch)
    {
        if (patch is not JsonArray ops) throw ApiException.BadRequest("json patch must be a JSON array of operations");
        JsonNode doc = target.DeepClone();
        foreach (var op in ops)
        {
            var kind = op?["op"]?.GetValue<string>() ?? throw ApiException.BadRequest("json patch operation without \"op\"");
            var path = op["path"]?.GetValue<string>() ?? throw ApiException.BadRequest($"json patch operation {kind} without \"path\"");
            var (parent, last) = Resolve(doc, path);
            switch (kind)
            {
                case "add":
                case "replace":
                    var value = op["value"]?.DeepClone();
                    if (parent is JsonObject po)
                    {
                        if (kind == "replace" && !po.ContainsKey(last)) throw ApiException.BadRequest($"replace operation does not apply: doc is missing key: {path}");
                        po[last] = value;
                    }
                    else if (parent is JsonArray pa)
                    {
                        if (last == "-") pa.Add(value);
                        else if (kind == "add") pa.Insert(ParseIndex(last, pa.Count + 1, path), value);
                        else pa[ParseIndex(last, pa.Count, path)] = value;
                    }
                    break;
                case "remove":
                    if (parent is JsonObject ro)
                    {
                        if (!ro.Remove(last)) throw ApiException.BadRequest($"remove operation does not apply: doc is missing path: {path}");
                    }
                    else if (parent is JsonArray ra) ra.RemoveAt(ParseIndex(last, ra.Count, path));
                    break;
                case "test":
                    var actual = parent is JsonObject to ? to[last] : (parent as JsonArray)?[ParseIndex(last, ((JsonArray)parent).Count, path)];
                    if (!JsonNode.DeepEquals(actual, op["value"])) throw new ApiException(422, "Invalid", $"testing value {path} failed");
                    break;
                default:
                    throw ApiException.BadRequest($"unsupported json patch operation \"{kind}\"");
            }
        }
        return doc.AsObject();
    }

    private static (JsonNode Parent, string Last) Resolve(JsonNode doc, string path)
    {
        if (!path.StartsWith('/')) throw ApiException.BadRequest($"json patch path must start with '/': {path}");
        var parts = path[1..].Split('/').Select(p => p.Replace("~1", "/").Replace("~0", "~")).ToArray();
        var node = doc;
        foreach (var part in parts[..^1])
        {
            node = node switch
            {
                JsonObject o => o[part],
                JsonArray a => a[ParseIndex(part, a.Count, path)],
                _ => null,
            } ?? throw ApiException.BadRequest($"json patch path not found: {path}");
        }
        return (node, parts[^1]);
    }

    private static int ParseIndex(string text, int bound, string path) =>
        int.TryParse(text, out var i) && i >= 0 && i < bound ? i : throw ApiException.BadRequest($"json patch index out of range in {path}");
}
