using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Flannel.Actors.Kubernetes;
using k8s;
using k8s.Models;
using Xunit;

namespace Flannel.Actors.Tests.Kubernetes;

/// <summary>The compile-time watch event serializers (what the NativeAOT flanneld reads watch streams with) read the API server's lines.</summary>
public sealed class KubeWatchJsonTests
{
    private static Watcher<T>.WatchEvent Read<T>(string line) =>
        JsonSerializer.Deserialize(line, (JsonTypeInfo<Watcher<T>.WatchEvent>)KubeWatchJson.Default.GetTypeInfo(typeof(Watcher<T>.WatchEvent))!)!;

    [Fact]
    public void A_node_and_a_configmap_event_read_with_their_type_and_object()
    {
        var node = Read<V1Node>("""{"type":"MODIFIED","object":{"apiVersion":"v1","kind":"Node","metadata":{"name":"host2","resourceVersion":"42","annotations":{"flannel.alpha.coreos.com/backend-type":"vxlan"}},"spec":{"podCIDR":"10.244.2.0/24"}}}""");
        Assert.Equal(WatchEventType.Modified, node.Type);
        Assert.Equal("host2", node.Object.Metadata.Name);
        Assert.Equal("42", node.Object.Metadata.ResourceVersion);
        Assert.Equal("10.244.2.0/24", node.Object.Spec.PodCIDR);
        Assert.Equal("vxlan", node.Object.Metadata.Annotations["flannel.alpha.coreos.com/backend-type"]);

        var cm = Read<V1ConfigMap>("""{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"kube-flannel-cfg","namespace":"kube-flannel"},"data":{"net-conf.json":"{}"}}}""");
        Assert.Equal(WatchEventType.Added, cm.Type);
        Assert.Equal("{}", cm.Object.Data["net-conf.json"]);
    }

    [Fact]
    public void A_status_event_and_a_bookmark_read_as_the_watcher_reads_them()
    {
        var status = Read<V1Status>("""{"type":"ERROR","object":{"kind":"Status","status":"Failure","reason":"Expired","code":410}}""");
        Assert.Equal(WatchEventType.Error, status.Type);
        Assert.Equal(410, status.Object.Code);
        var generic = Read<KubernetesObject>("""{"type":"BOOKMARK","object":{"kind":"Node","apiVersion":"v1"}}""");
        Assert.Equal(WatchEventType.Bookmark, generic.Type);
        Assert.Equal("Node", generic.Object.Kind);
    }
}
