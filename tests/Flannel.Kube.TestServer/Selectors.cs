using System.Text.Json.Nodes;

namespace Flannel.Kube.TestServer;

/// <summary>
/// Kubernetes label selector (equality and set based: a=b, a==b, a!=b, a, !a, a in (x,y), a notin (x,y)).
/// </summary>
public sealed class LabelSelector
{
    private readonly List<Func<IReadOnlyDictionary<string, string>, bool>> _requirements = new();

    public static readonly LabelSelector Everything = new();

    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        if (string.IsNullOrWhiteSpace(text)) return selector;
        foreach (var raw in SplitTopLevel(text))
        {
            var term = raw.Trim();
            if (term.Length == 0) continue;
            selector._requirements.Add(ParseTerm(term));
        }
        return selector;
    }

    public bool Matches(JsonObject obj)
    {
        var labels = new Dictionary<string, string>();
        if (obj["metadata"]?["labels"] is JsonObject l)
            foreach (var (k, v) in l) labels[k] = v?.GetValue<string>() ?? "";
        return _requirements.All(r => r(labels));
    }

    private static Func<IReadOnlyDictionary<string, string>, bool> ParseTerm(string term)
    {
        var notIn = term.IndexOf(" notin ", StringComparison.Ordinal);
        if (notIn > 0) { var key = term[..notIn].Trim(); var set = ParseSet(term[(notIn + 7)..], term); return l => !l.TryGetValue(key, out var v) || !set.Contains(v); }
        var inPos = term.IndexOf(" in ", StringComparison.Ordinal);
        if (inPos > 0) { var key = term[..inPos].Trim(); var set = ParseSet(term[(inPos + 4)..], term); return l => l.TryGetValue(key, out var v) && set.Contains(v); }
        var ne = term.IndexOf("!=", StringComparison.Ordinal);
        if (ne > 0) { var key = term[..ne].Trim(); var val = term[(ne + 2)..].Trim(); return l => !l.TryGetValue(key, out var v) || v != val; }
        var eq = term.IndexOf('=');
        if (eq > 0)
        {
            var key = term[..eq].Trim();
            var val = term[(eq + (term.Length > eq + 1 && term[eq + 1] == '=' ? 2 : 1))..].Trim();
            return l => l.TryGetValue(key, out var v) && v == val;
        }
        if (term.StartsWith('!')) { var key = term[1..].Trim(); return l => !l.ContainsKey(key); }
        if (term.Any(c => c is ' ' or '(' or ')')) throw ApiException.BadRequest($"unable to parse requirement: invalid label selector term \"{term}\"");
        return l => l.ContainsKey(term);
    }

    private static HashSet<string> ParseSet(string text, string term)
    {
        var t = text.Trim();
        if (!t.StartsWith('(') || !t.EndsWith(')')) throw ApiException.BadRequest($"unable to parse requirement: expected a parenthesised set in \"{term}\"");
        return t[1..^1].Split(',').Select(s => s.Trim()).Where(s => s.Length > 0).ToHashSet();
    }

    // Commas inside "in (a,b)" sets do not separate requirements.
    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0) { yield return text[start..i]; start = i + 1; }
        }
        yield return text[start..];
    }
}

/// <summary>Field selector over dotted paths (metadata.name, metadata.namespace, spec.nodeName, status.phase, ...); = == != only.</summary>
public sealed class FieldSelector
{
    private readonly List<(string Path, string Value, bool Negated)> _terms = new();

    public static readonly FieldSelector Everything = new();

    private static readonly HashSet<string> Supported =
        ["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase", "spec.unschedulable", "involvedObject.name", "involvedObject.kind", "involvedObject.namespace", "involvedObject.uid", "type", "reason"];

    public static FieldSelector Parse(string? text)
    {
        var selector = new FieldSelector();
        if (string.IsNullOrWhiteSpace(text)) return selector;
        foreach (var raw in text.Split(','))
        {
            var term = raw.Trim();
            if (term.Length == 0) continue;
            var ne = term.IndexOf("!=", StringComparison.Ordinal);
            var eq = term.IndexOf('=');
            string path, value;
            bool negated;
            if (ne > 0) { path = term[..ne]; value = term[(ne + 2)..]; negated = true; }
            else if (eq > 0) { path = term[..eq]; value = term[(eq + (term.Length > eq + 1 && term[eq + 1] == '=' ? 2 : 1))..]; negated = false; }
            else throw ApiException.BadRequest($"invalid field selector: \"{term}\": expected <field>=<value> or <field>!=<value>");
            path = path.Trim();
            if (!Supported.Contains(path)) throw ApiException.BadRequest($"field label not supported: {path}");
            selector._terms.Add((path, value.Trim(), negated));
        }
        return selector;
    }

    public bool Matches(JsonObject obj) => _terms.All(t => (Lookup(obj, t.Path) == t.Value) != t.Negated);

    /// <summary>The value of a metadata.name=X term: the API server's authorizer treats a list or watch with it as a
    /// request for the object named X (so an RBAC rule with resourceNames can allow it).</summary>
    public string? ExactName => _terms.Where(t => t.Path == "metadata.name" && !t.Negated).Select(t => t.Value).FirstOrDefault();

    private static string Lookup(JsonObject obj, string path)
    {
        JsonNode? node = obj;
        foreach (var part in path.Split('.')) node = node is JsonObject o ? o[part] : null;
        return node switch
        {
            null => "",
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
            _ => node.ToJsonString(),
        };
    }
}
