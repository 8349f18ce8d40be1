using Flannel.Testing;
using System.Net;
using System.Text.Json;
using Flannel.Kube.TestServer;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace Flannel.Kube.Tests;

/// <summary>The test API server as KubernetesClient 21 sees it.</summary>
public sealed class TestServerClientTests : IAsyncLifetime
{
    private KubeTestServer _server = null!;
    private Kubernetes _client = null!;

    public async Task InitializeAsync()
    {
        _server = await KubeTestServer.StartAsync();
        _server.Put(Seed.Namespace(Seed.FlannelNamespace),
            Seed.Node("node-a", "10.244.1.0/24", "10.99.0.1"),
            Seed.Node("node-b", "10.244.2.0/24", "10.99.0.2", labels: new Dictionary<string, string> { ["role"] = "edge" }),
            Seed.FlannelPod("flannel-a", "node-a", "10.99.0.1"),
            Seed.FlannelPod("flannel-b", "node-b", "10.99.0.2"),
            Seed.FlannelConfig());
        _client = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Version_and_lists_carry_resource_versions()
    {
        var version = await _client.Version.GetCodeAsync();
        Assert.Equal("1", version.Major);

        var nodes = await _client.CoreV1.ListNodeAsync();
        Assert.Equal(["node-a", "node-b"], nodes.Items.Select(n => n.Metadata.Name));
        Assert.Equal(_server.Store.Revision.ToString(), nodes.Metadata.ResourceVersion);
        Assert.All(nodes.Items, n => Assert.False(string.IsNullOrEmpty(n.Metadata.ResourceVersion)));
        Assert.Equal("10.244.2.0/24", nodes.Items[1].Spec.PodCIDR);
    }

    [Fact]
    public async Task Label_and_field_selectors_filter()
    {
        Assert.Equal(["node-b"], (await _client.CoreV1.ListNodeAsync(labelSelector: "role=edge")).Items.Select(n => n.Metadata.Name));
        Assert.Equal(["node-a"], (await _client.CoreV1.ListNodeAsync(labelSelector: "!role")).Items.Select(n => n.Metadata.Name));
        Assert.Equal(["node-a"], (await _client.CoreV1.ListNodeAsync(fieldSelector: "metadata.name=node-a")).Items.Select(n => n.Metadata.Name));
        Assert.Equal(["flannel-b"], (await _client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=node-b")).Items.Select(p => p.Metadata.Name));
        Assert.Equal(2, (await _client.CoreV1.ListNamespacedPodAsync(namespaceParameter: Seed.FlannelNamespace, labelSelector: "app in (flannel,other)")).Items.Count);
        Assert.Empty((await _client.CoreV1.ListNamespacedPodAsync(namespaceParameter: "default", labelSelector: "app=flannel")).Items);

        var bad = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ListNodeAsync(fieldSelector: "spec.bogus=1"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Response.StatusCode);
        Assert.Contains("spec.bogus", bad.Response.Content);
    }

    [Fact]
    public async Task Limit_pages_with_continue_tokens()
    {
        var first = await _client.CoreV1.ListNodeAsync(limit: 1);
        Assert.Single(first.Items);
        Assert.False(string.IsNullOrEmpty(first.Metadata.ContinueProperty));
        var second = await _client.CoreV1.ListNodeAsync(limit: 1, continueParameter: first.Metadata.ContinueProperty);
        Assert.Equal("node-b", Assert.Single(second.Items).Metadata.Name);
        Assert.True(string.IsNullOrEmpty(second.Metadata.ContinueProperty));
    }

    [Fact]
    public async Task Errors_are_status_objects()
    {
        var notFound = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNodeAsync(name: "missing"));
        Assert.Equal(HttpStatusCode.NotFound, notFound.Response.StatusCode);
        var status = KubernetesJson.Deserialize<V1Status>(notFound.Response.Content);
        Assert.Equal(("Status", "NotFound", 404), (status.Kind, status.Reason, status.Code ?? 0));

        var node = await _client.CoreV1.ReadNodeAsync(name: "node-a");
        await _client.CoreV1.PatchNodeAsync(body: new V1Patch("""{"metadata":{"labels":{"x":"1"}}}""", V1Patch.PatchType.MergePatch), name: "node-a");
        node.Metadata.Labels["x"] = "2";
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReplaceNodeAsync(body: node, name: "node-a"));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Equal("Conflict", KubernetesJson.Deserialize<V1Status>(conflict.Response.Content).Reason);

        var exists = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNodeAsync(body: Seed.Node("node-a")));
        Assert.Equal(HttpStatusCode.Conflict, exists.Response.StatusCode);
        Assert.Equal("AlreadyExists", KubernetesJson.Deserialize<V1Status>(exists.Response.Content).Reason);
    }

    [Fact]
    public async Task Merge_patch_merges_annotations_and_strategic_patch_merges_conditions_by_type()
    {
        await _client.CoreV1.PatchNodeAsync(body: new V1Patch("""{"metadata":{"annotations":{"a":"1","b":"2"}}}""", V1Patch.PatchType.MergePatch), name: "node-a");
        await _client.CoreV1.PatchNodeAsync(body: new V1Patch("""{"metadata":{"annotations":{"b":null,"c":"3"}}}""", V1Patch.PatchType.MergePatch), name: "node-a");
        var condition = """{"status":{"conditions":[{"type":"NetworkUnavailable","status":"False","reason":"FlannelIsUp"}]}}""";
        var patched = await _client.CoreV1.PatchNodeStatusAsync(body: new V1Patch(condition, V1Patch.PatchType.StrategicMergePatch), name: "node-a");

        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["c"] = "3" }, patched.Metadata.Annotations);
        Assert.Equal(["Ready", "NetworkUnavailable"], patched.Status.Conditions.Select(c => c.Type));

        var flip = """{"status":{"conditions":[{"type":"NetworkUnavailable","status":"True","reason":"NoRouteCreated"}]}}""";
        patched = await _client.CoreV1.PatchNodeStatusAsync(body: new V1Patch(flip, V1Patch.PatchType.StrategicMergePatch), name: "node-a");
        Assert.Equal(2, patched.Status.Conditions.Count);
        Assert.Equal("NoRouteCreated", patched.Status.Conditions.Single(c => c.Type == "NetworkUnavailable").Reason);
    }

    [Fact]
    public async Task Main_resource_and_status_subresource_do_not_write_each_others_parts()
    {
        var viaMain = """{"spec":{"unschedulable":true},"status":{"conditions":[{"type":"Ready","status":"False"}]}}""";
        var node = await _client.CoreV1.PatchNodeAsync(body: new V1Patch(viaMain, V1Patch.PatchType.StrategicMergePatch), name: "node-a");
        Assert.True(node.Spec.Unschedulable);
        Assert.Equal("True", node.Status.Conditions.Single(c => c.Type == "Ready").Status);

        var viaStatus = """{"spec":{"podCIDR":"10.0.0.0/8"},"metadata":{"annotations":{"s":"1"}},"status":{"conditions":[{"type":"Ready","status":"False"}]}}""";
        node = await _client.CoreV1.PatchNodeStatusAsync(body: new V1Patch(viaStatus, V1Patch.PatchType.StrategicMergePatch), name: "node-a");
        Assert.Equal("10.244.1.0/24", node.Spec.PodCIDR);
        Assert.Equal("1", node.Metadata.Annotations["s"]);
        Assert.Equal("False", node.Status.Conditions.Single(c => c.Type == "Ready").Status);
    }

    [Fact]
    public async Task Watch_from_a_list_version_sees_every_later_change_then_bookmarks()
    {
        _server.Store.BookmarkInterval = TimeSpan.FromMilliseconds(200);
        var list = await _client.CoreV1.ListNodeAsync();
        await _client.CoreV1.CreateNodeAsync(body: Seed.Node("node-c", "10.244.3.0/24"));
        await _client.CoreV1.PatchNodeAsync(body: new V1Patch("""{"metadata":{"labels":{"x":"y"}}}""", V1Patch.PatchType.MergePatch), name: "node-a");
        await _client.CoreV1.DeleteNodeAsync(name: "node-b");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<(WatchEventType, string)>();
        await foreach (var (type, node) in _client.CoreV1.WatchListNodeAsync(resourceVersion: list.Metadata.ResourceVersion, allowWatchBookmarks: true, cancellationToken: cts.Token))
        {
            seen.Add((type, node.Metadata.Name ?? ""));
            if (type == WatchEventType.Bookmark)
            {
                Assert.Equal(_server.Store.Revision.ToString(), node.Metadata.ResourceVersion);
                break;
            }
        }
        Assert.Equal([(WatchEventType.Added, "node-c"), (WatchEventType.Modified, "node-a"), (WatchEventType.Deleted, "node-b"), (WatchEventType.Bookmark, "")], seen);
    }

    [Fact]
    public async Task A_too_old_version_gets_410_through_onError_and_the_stream_ends()
    {
        var list = await _client.CoreV1.ListNodeAsync();
        await _client.CoreV1.CreateNodeAsync(body: Seed.Node("node-c"));
        _server.Store.Compact();

        Exception? error = null;
        var events = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var _ in _client.CoreV1.WatchListNodeAsync(resourceVersion: list.Metadata.ResourceVersion, allowWatchBookmarks: true,
                           onError: e => error = e, cancellationToken: cts.Token))
            events++;

        Assert.Equal(0, events);
        var expired = Assert.IsType<KubernetesException>(error);
        Assert.Equal(410, expired.Status.Code);
        Assert.Equal("Expired", expired.Status.Reason);
        Assert.Contains("too old resource version", expired.Status.Message);
    }

    [Fact]
    public async Task Server_side_disconnect_ends_the_watch_enumeration()
    {
        var list = await _client.CoreV1.ListNodeAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var watching = Task.Run(async () =>
        {
            var n = 0;
            await foreach (var _ in _client.CoreV1.WatchListNodeAsync(resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cts.Token)) n++;
            return n;
        });
        await Poll.UntilAsync(() => _server.Store.OpenWatchCount == 1, TimeSpan.FromSeconds(15), "the watch is open", 25);
        await _client.CoreV1.CreateNodeAsync(body: Seed.Node("node-c"));
        await Poll.UntilAsync(() => _server.Store.Revision > long.Parse(list.Metadata.ResourceVersion), TimeSpan.FromSeconds(15), "the change is stored", 25);
        // Give the event time to be written before the stream is cut: it must not be lost either way.
        await Task.Delay(100);
        Assert.Equal(1, _server.Store.DisconnectWatches());
        Assert.Equal(1, await watching.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Selectors_apply_to_watches_and_moves_out_of_the_selection_are_deletes()
    {
        var list = await _client.CoreV1.ListNodeAsync(labelSelector: "role=edge");
        await _client.CoreV1.PatchNodeAsync(body: new V1Patch("""{"metadata":{"labels":{"role":"core"}}}""", V1Patch.PatchType.MergePatch), name: "node-b");
        await _client.CoreV1.PatchNodeAsync(body: new V1Patch("""{"metadata":{"labels":{"role":"edge"}}}""", V1Patch.PatchType.MergePatch), name: "node-a");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<(WatchEventType, string)>();
        await foreach (var (type, node) in _client.CoreV1.WatchListNodeAsync(labelSelector: "role=edge", resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cts.Token))
        {
            seen.Add((type, node.Metadata.Name));
            if (seen.Count == 2) break;
        }
        Assert.Equal([(WatchEventType.Deleted, "node-b"), (WatchEventType.Added, "node-a")], seen);
    }

    [Fact]
    public async Task ConfigMaps_and_events_round_trip()
    {
        var cm = await _client.CoreV1.ReadNamespacedConfigMapAsync(name: "kube-flannel-cfg", namespaceParameter: Seed.FlannelNamespace);
        cm.Data["net-conf.json"] = """{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}""";
        var replaced = await _client.CoreV1.ReplaceNamespacedConfigMapAsync(body: cm, name: cm.Metadata.Name, namespaceParameter: Seed.FlannelNamespace);
        Assert.Contains("udp", replaced.Data["net-conf.json"]);
        Assert.NotEqual(cm.Metadata.ResourceVersion, replaced.Metadata.ResourceVersion);

        var ev = await _client.CoreV1.CreateNamespacedEventAsync(namespaceParameter: Seed.FlannelNamespace, body: new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = "kube-flannel-cfg." },
            InvolvedObject = new V1ObjectReference { Kind = "ConfigMap", Name = "kube-flannel-cfg", NamespaceProperty = Seed.FlannelNamespace },
            Reason = "Test", Message = "hello", Type = "Normal",
        });
        Assert.StartsWith("kube-flannel-cfg.", ev.Metadata.Name);
        var events = await _client.CoreV1.ListNamespacedEventAsync(namespaceParameter: Seed.FlannelNamespace, fieldSelector: "involvedObject.name=kube-flannel-cfg");
        Assert.Equal("hello", Assert.Single(events.Items).Message);
    }

    [Fact]
    public void The_shipped_three_node_state_parses()
    {
        var objects = StateFile.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "states", "three-nodes.yaml")));
        Assert.Equal(3, objects.OfType<V1Node>().Count(n => n.Spec.PodCIDR is not null));
        Assert.Equal(3, objects.OfType<V1Pod>().Count(p => p.Metadata.Labels["app"] == "flannel"));
        Assert.Contains("vxlan", Assert.Single(objects.OfType<V1ConfigMap>()).Data["net-conf.json"]);
    }

    [Fact]
    public void State_yaml_seeds_typed_objects_and_rejects_unknown_kinds()
    {
        var objects = StateFile.Parse("""
            apiVersion: v1
            kind: Node
            metadata: {name: n1}
            spec: {podCIDR: 10.244.9.0/24}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: c, namespace: kube-flannel}
            data: {k: v}
            """);
        Assert.Equal(["Node", "ConfigMap"], objects.Select(o => o.Kind));
        var e = Assert.Throws<FormatException>(() => StateFile.Parse("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"));
        Assert.Contains("Service", e.Message);
        Assert.Contains(JsonSerializer.Serialize("Node"), JsonSerializer.Serialize(objects[0].Kind));
    }
}
