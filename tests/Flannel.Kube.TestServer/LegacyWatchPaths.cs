using Microsoft.AspNetCore.Http;

namespace Flannel.Kube.TestServer;

/// <summary>
/// The deprecated watch paths old clients use (client-go before 1.6, e.g. upstream flanneld v0.7.1's informer):
/// <c>/api/v1/watch/nodes</c>, <c>/api/v1/watch/nodes/{name}</c>, <c>/api/v1/watch/namespaces/{ns}/pods[/{name}]</c>. A real
/// API server still serves them as the collection or object path with <c>watch=true</c>; so does this one, by rewriting
/// the request before it is routed.
/// </summary>
public static class LegacyWatchPaths
{
    private const string Prefix = "/api/v1/watch/";

    /// <summary>True when the request used a legacy watch path (it now carries the plain path and watch=true).</summary>
    public static bool Rewrite(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        if (!path.StartsWith(Prefix, StringComparison.Ordinal) || path.Length == Prefix.Length) return false;
        request.Path = "/api/v1/" + path[Prefix.Length..];
        var query = QueryString.Create(request.Query
            .Where(kv => kv.Key != "watch")
            .SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string?>(kv.Key, v)))
            .Append(new KeyValuePair<string, string?>("watch", "true")));
        request.QueryString = query;
        return true;
    }
}
