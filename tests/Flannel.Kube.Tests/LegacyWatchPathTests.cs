using System.Net;
using System.Text.Json;
using Flannel.Kube.TestServer;
using k8s.Models;
using Xunit;

namespace Flannel.Kube.Tests;

/// <summary>The deprecated /api/v1/watch/... paths an old client-go (upstream flanneld v0.7.1) watches through.</summary>
public sealed class LegacyWatchPathTests : IAsyncLifetime
{
    private KubeTestServer _server = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };

    public async Task InitializeAsync()
    {
        _server = await KubeTestServer.StartAsync();
        _server.Put(Seed.Namespace(Seed.FlannelNamespace), Seed.Node("node-a", "10.244.1.0/24", "10.99.0.1"),
            Seed.FlannelPod("flannel-a", "node-a", "10.99.0.1"));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    /// <summary>Watches <paramref name="path"/> for 3 s, applies <paramref name="change"/> meanwhile and returns the first event.</summary>
    private async Task<JsonElement> FirstEvent(string path, Action change)
    {
        var list = await _http.GetStringAsync(new Uri(_server.BaseUri, "/api/v1/nodes"));
        var version = JsonDocument.Parse(list).RootElement.GetProperty("metadata").GetProperty("resourceVersion").GetString();
        var body = _http.GetStringAsync(new Uri(_server.BaseUri, $"{path}?resourceVersion={version}&timeoutSeconds=3"));
        await Task.Delay(1000);
        change();
        var lines = (await body).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        return JsonDocument.Parse(lines[0]).RootElement.Clone();
    }

    [Fact]
    public async Task Watch_nodes_through_the_legacy_path_streams_events()
    {
        var e = await FirstEvent("/api/v1/watch/nodes", () => _server.Put(Seed.Node("node-b", "10.244.2.0/24", "10.99.0.2")));
        Assert.Equal("ADDED", e.GetProperty("type").GetString());
        Assert.Equal("node-b", e.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString());
        Assert.Contains(_server.Requests, r => r is { Verb: "watch", Resource: "nodes" });
    }

    [Fact]
    public async Task Watch_one_node_through_the_legacy_path_sees_only_it()
    {
        var e = await FirstEvent("/api/v1/watch/nodes/node-a", () =>
        {
            _server.Put(Seed.Node("node-c", "10.244.3.0/24", "10.99.0.3"));
            _server.Put(Seed.Node("node-a", "10.244.9.0/24", "10.99.0.1"));
        });
        Assert.Equal("MODIFIED", e.GetProperty("type").GetString());
        Assert.Equal("node-a", e.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Watch_namespaced_pods_through_the_legacy_path()
    {
        var e = await FirstEvent($"/api/v1/watch/namespaces/{Seed.FlannelNamespace}/pods",
            () => _server.Put(Seed.FlannelPod("flannel-b", "node-a", "10.99.0.2")));
        Assert.Equal("ADDED", e.GetProperty("type").GetString());
        Assert.Equal("flannel-b", e.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString());
    }
}
