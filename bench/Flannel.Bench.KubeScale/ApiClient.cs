using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Flannel.Demo;

namespace Flannel.Bench.KubeScale;

/// <summary>
/// Plain REST writes to the test API server inside the underlay namespace (sockets made there), as kubelets and
/// controllers would make them. Every call returns the resourceVersion the server gave the change.
/// </summary>
public sealed class ApiClient : IDisposable
{
    private readonly NamespaceThread _ns;
    private readonly HttpClient _http;

    public ApiClient(string ns, IPAddress address, int port)
    {
        _ns = new NamespaceThread(ns);
        var handler = NamespaceHttp.Handler(_ns);
        handler.MaxConnectionsPerServer = 64;
        _http = new HttpClient(handler) { BaseAddress = new Uri($"http://{address}:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public Task<long> CreateNodeAsync(JsonObject node, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "api/v1/nodes", node.ToJsonString(), "application/json", ct);

    /// <summary>A JSON merge patch of the Node (metadata, spec).</summary>
    public Task<long> MergePatchAsync(string name, JsonObject patch, CancellationToken ct) =>
        SendAsync(HttpMethod.Patch, $"api/v1/nodes/{name}", patch.ToJsonString(), "application/merge-patch+json", ct);

    /// <summary>A strategic merge patch of the Node's status, as the kubelet sends its heartbeat (conditions merged by type).</summary>
    public Task<long> StatusPatchAsync(string name, JsonObject patch, CancellationToken ct) =>
        SendAsync(HttpMethod.Patch, $"api/v1/nodes/{name}/status", patch.ToJsonString(), "application/strategic-merge-patch+json", ct);

    public Task<long> DeleteNodeAsync(string name, CancellationToken ct) =>
        SendAsync(HttpMethod.Delete, $"api/v1/nodes/{name}", null, null, ct);

    /// <summary>Node count and the list's resourceVersion.</summary>
    public async Task<(int Count, long ResourceVersion)> CountNodesAsync(CancellationToken ct)
    {
        var body = await _http.GetStringAsync("api/v1/nodes", ct).ConfigureAwait(false);
        var list = JsonNode.Parse(body)!;
        return (list["items"]!.AsArray().Count, Version(list));
    }

    private async Task<long> SendAsync(HttpMethod method, string path, string? body, string? contentType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType!);
        using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{method} {path}: HTTP {(int)response.StatusCode}: {text}");
        return Version(JsonNode.Parse(text)!);
    }

    private static long Version(JsonNode obj) =>
        long.Parse(obj["metadata"]?["resourceVersion"]?.GetValue<string>() ?? throw new InvalidOperationException("no metadata.resourceVersion"),
            NumberStyles.None, CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _http.Dispose();
        _ns.Dispose();
    }
}
