using System.Collections;
using System.Net;
using Flannel.Actors.Kubernetes;
using Flannel.Host.Options;
using System.Text.Json.Nodes;
using Flannel.Host.Kubernetes;
using Flannel.Kube.TestServer;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Flannel.Kube.Tests;

/// <summary>What the agent writes to the API, checked the way a user would: with kubectl.</summary>
public sealed class NodePublisherTests : IAsyncLifetime
{
    private const string VxlanData = """{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:01"}""";
    private KubeTestServer _server = null!;
    private Kubernetes _client = null!;
    private Kubectl _kubectl = null!;

    public async Task InitializeAsync()
    {
        _server = await KubeTestServer.StartAsync();
        _server.Put(Seed.Namespace(Seed.FlannelNamespace), Seed.Node("node-a", "10.244.1.0/24", "10.99.0.1"), Seed.Node("node-b", "10.244.2.0/24", "10.99.0.2"),
            Seed.FlannelPod("kube-flannel-ds-x1", "node-b", "10.99.0.2"), Seed.FlannelConfig());
        _client = _server.CreateClient();
        _kubectl = new Kubectl(_server);
    }

    public async Task DisposeAsync()
    {
        _kubectl.Dispose();
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private JsonNode NodeJson(string name) => JsonNode.Parse(_kubectl.Run("get", "node", name, "-o", "json"))!;

    [Fact]
    public async Task Annotations_and_condition_appear_as_flannel_writes_them()
    {
        var publisher = new NodeAnnotationPublisher(_client, NullLogger.Instance);
        var published = await publisher.PublishAsync("node-a", new NodeAnnouncement("vxlan", VxlanData, IPAddress.Parse("10.99.0.1")));
        await publisher.MarkNetworkAvailableAsync("node-a");
        Assert.Equal(IPAddress.Parse("10.99.0.1"), published);

        var node = NodeJson("node-a");
        var annotations = node["metadata"]!["annotations"]!.AsObject();
        Assert.Equal("vxlan", annotations["flannel.alpha.coreos.com/backend-type"]!.GetValue<string>());
        Assert.Equal(VxlanData, annotations["flannel.alpha.coreos.com/backend-data"]!.GetValue<string>());
        Assert.Equal("true", annotations["flannel.alpha.coreos.com/kube-subnet-manager"]!.GetValue<string>());
        Assert.Equal("10.99.0.1", annotations["flannel.alpha.coreos.com/public-ip"]!.GetValue<string>());

        var condition = node["status"]!["conditions"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == "NetworkUnavailable")!;
        Assert.Equal("False", condition["status"]!.GetValue<string>());
        Assert.Equal("FlannelIsUp", condition["reason"]!.GetValue<string>());
        Assert.Equal("Flannel is running on this node", condition["message"]!.GetValue<string>());
        Assert.Contains(node["status"]!["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "Ready");
    }

    [Fact]
    public async Task Publishing_the_same_values_again_writes_nothing()
    {
        var publisher = new NodeAnnotationPublisher(_client, NullLogger.Instance);
        var announcement = new NodeAnnouncement("vxlan", VxlanData, IPAddress.Parse("10.99.0.1"));
        await publisher.PublishAsync("node-a", announcement);
        await publisher.MarkNetworkAvailableAsync("node-a");
        var revision = _server.Store.Revision;
        await publisher.PublishAsync("node-a", announcement);
        await publisher.MarkNetworkAvailableAsync("node-a");
        Assert.Equal(revision, _server.Store.Revision);

        await publisher.PublishAsync("node-a", announcement with { BackendType = "udp", BackendData = null });
        var annotations = NodeJson("node-a")["metadata"]!["annotations"]!;
        Assert.Equal("udp", annotations["flannel.alpha.coreos.com/backend-type"]!.GetValue<string>());
        Assert.Equal("null", annotations["flannel.alpha.coreos.com/backend-data"]!.GetValue<string>());
    }

    [Fact]
    public async Task Public_ip_overwrite_set_with_kubectl_wins_and_a_custom_prefix_is_used()
    {
        _kubectl.Run("annotate", "node", "node-b", "example.com/public-ip-overwrite=203.0.113.9");
        var publisher = new NodeAnnotationPublisher(_client, NullLogger.Instance, "example.com");
        Assert.Equal(IPAddress.Parse("203.0.113.9"), await publisher.ReadPublicIpOverwriteAsync("node-b"));
        var published = await publisher.PublishAsync("node-b", new NodeAnnouncement("host-gw", null, IPAddress.Parse("10.99.0.2")));
        Assert.Equal(IPAddress.Parse("203.0.113.9"), published);

        var annotations = NodeJson("node-b")["metadata"]!["annotations"]!.AsObject();
        Assert.Equal("203.0.113.9", annotations["example.com/public-ip"]!.GetValue<string>());
        Assert.DoesNotContain(annotations, a => a.Key.StartsWith("flannel.alpha.coreos.com/"));
    }

    [Fact]
    public async Task A_malformed_overwrite_is_a_clear_error()
    {
        _kubectl.Run("annotate", "node", "node-a", "flannel.alpha.coreos.com/public-ip-overwrite=not-an-ip");
        var publisher = new NodeAnnotationPublisher(_client, NullLogger.Instance);
        var e = await Assert.ThrowsAsync<FormatException>(() => publisher.PublishAsync("node-a", new NodeAnnouncement("vxlan", VxlanData, IPAddress.Parse("10.99.0.1"))));
        Assert.Contains("public-ip-overwrite", e.Message);
        Assert.Contains("not-an-ip", e.Message);
    }

    [Fact]
    public async Task Client_is_built_from_the_kubeconfig_and_api_url_flags()
    {
        var options = FlanneldOptions.Parse(["--kube-subnet-mgr", "--kubeconfig-file", _kubectl.KubeconfigPath], new Hashtable(), "node-a");
        using var fromKubeconfig = KubeClientFactory.Create(options.KubeApiUrl, options.KubeconfigFile);
        Assert.Equal(2, (await fromKubeconfig.CoreV1.ListNodeAsync()).Items.Count);

        options = FlanneldOptions.Parse(["--kube-subnet-mgr", "--kube-api-url", _server.BaseUri.ToString()], new Hashtable(), "node-a");
        using var fromUrl = KubeClientFactory.Create(options.KubeApiUrl, options.KubeconfigFile);
        Assert.Equal("node-a", (await fromUrl.CoreV1.ReadNodeAsync(name: "node-a")).Metadata.Name);

        var missing = Assert.Throws<FileNotFoundException>(() => KubeClientFactory.Create(null, "/nonexistent/kubeconfig"));
        Assert.Contains("--kubeconfig-file", missing.Message);
    }

    [Fact]
    public async Task Node_name_comes_from_NODE_NAME_or_from_the_pod()
    {
        Assert.Equal("node-z", await NodeNameResolver.ResolveAsync(_client, k => k == "NODE_NAME" ? "node-z" : null));
        var env = new Dictionary<string, string> { ["POD_NAME"] = "kube-flannel-ds-x1", ["POD_NAMESPACE"] = Seed.FlannelNamespace };
        Assert.Equal("node-b", await NodeNameResolver.ResolveAsync(_client, k => env.GetValueOrDefault(k)));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => NodeNameResolver.ResolveAsync(_client, _ => null));
        Assert.Contains("NODE_NAME", e.Message);
    }

    [Fact]
    public async Task Config_refused_event_is_listed_by_kubectl()
    {
        var recorder = new KubeEventRecorder(_client, NullLogger.Instance, host: "node-a");
        await recorder.ConfigRefusedAsync(Seed.FlannelNamespace, "kube-flannel-cfg", "net-conf.json: Network 10.0.0.0/8 differs from the running 10.244.0.0/16");

        var events = JsonNode.Parse(_kubectl.Run("get", "events", "-n", Seed.FlannelNamespace, "-o", "json"))!["items"]!.AsArray();
        var ev = Assert.Single(events)!;
        Assert.Equal("Warning", ev["type"]!.GetValue<string>());
        Assert.Equal(KubeEventRecorder.ConfigRefusedReason, ev["reason"]!.GetValue<string>());
        Assert.Equal("kube-flannel-cfg", ev["involvedObject"]!["name"]!.GetValue<string>());
        Assert.Contains("10.0.0.0/8", ev["message"]!.GetValue<string>());
        Assert.Equal("flanneld", ev["source"]!["component"]!.GetValue<string>());
    }
}
