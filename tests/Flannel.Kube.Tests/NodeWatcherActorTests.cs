using Flannel.Testing;
using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Kubernetes;
using Flannel.Kube.TestServer;
using k8s;
using k8s.Models;
using Xunit;

namespace Flannel.Kube.Tests;

public sealed class NodeWatcherActorTests : TestKit, IAsyncLifetime
{
    private static readonly KubeWatchOptions FastRetry = new(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(400));
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private KubeTestServer _server = null!;
    private Kubernetes _client = null!;

    public async Task InitializeAsync()
    {
        _server = await KubeTestServer.StartAsync();
        _server.Store.BookmarkInterval = TimeSpan.FromMilliseconds(300);
        _server.Put(
            Seed.Node("node-a", "10.244.1.0/24", "10.99.0.1", new Dictionary<string, string>
            {
                ["flannel.alpha.coreos.com/backend-type"] = "vxlan",
                ["flannel.alpha.coreos.com/public-ip"] = "10.99.0.1",
                ["flannel.alpha.coreos.com/kube-subnet-manager"] = "true",
                ["unrelated/annotation"] = "x",
            }),
            // No annotations, no addresses, no podCIDR: must not break anything.
            Seed.Node("bare"));
        _client = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private IActorRef StartWatcher() => Sys.ActorOf(NodeWatcherActor.Props(_client, options: FastRetry, subscriber: TestActor));

    private async Task<List<object>> ExpectInitialSync()
    {
        var initial = new List<object>();
        FishForMessage(m => { initial.Add(m); return m is KubeNodesSynced; }, Wait);
        await Task.CompletedTask;
        return initial;
    }

    [Fact]
    public async Task Initial_list_reports_nodes_with_flannel_annotations_only()
    {
        StartWatcher();
        var initial = await ExpectInitialSync();
        var added = initial.OfType<KubeNodeAdded>().Select(a => a.Node).OrderBy(n => n.Name).ToList();
        Assert.Equal(["bare", "node-a"], added.Select(n => n.Name));

        var a = added[1];
        Assert.Equal(IPNetwork.Parse("10.244.1.0/24"), a.PodCidr);
        Assert.Equal(IPAddress.Parse("10.99.0.1"), a.InternalIP);
        Assert.Equal("vxlan", a.BackendType);
        Assert.True(a.IsFlannelManaged);
        Assert.Equal(IPAddress.Parse("10.99.0.1"), a.PublicIp);
        Assert.False(a.Annotations.ContainsKey("unrelated/annotation"));
        Assert.Equal(3, a.Annotations.Count);

        var bare = added[0];
        Assert.Null(bare.PodCidr);
        Assert.Null(bare.InternalIP);
        Assert.Empty(bare.Annotations);
        Assert.False(bare.IsFlannelManaged);

        Assert.Equal(2, ((KubeNodesSynced)initial[^1]).Nodes.Count);
    }

    [Fact]
    public async Task Add_update_and_delete_arrive_and_irrelevant_updates_are_dropped()
    {
        StartWatcher();
        await ExpectInitialSync();

        await _client.CoreV1.CreateNodeAsync(body: Seed.Node("node-c", "10.244.3.0/24", "10.99.0.3"));
        Assert.Equal("node-c", ExpectMsg<KubeNodeAdded>(Wait).Node.Name);

        // A kubelet-style status heartbeat changes nothing flannel cares about.
        await _client.CoreV1.PatchNodeStatusAsync(body: new V1Patch("""{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Heartbeat"}]}}""", V1Patch.PatchType.StrategicMergePatch), name: "node-c");
        await _client.CoreV1.PatchNodeAsync(body: new V1Patch("""{"metadata":{"annotations":{"flannel.alpha.coreos.com/backend-type":"udp"}}}""", V1Patch.PatchType.MergePatch), name: "node-c");
        var updated = ExpectMsg<KubeNodeUpdated>(Wait);
        Assert.Equal(("node-c", "udp", null), (updated.Node.Name, updated.Node.BackendType, updated.Previous.BackendType));

        await _client.CoreV1.DeleteNodeAsync(name: "bare");
        Assert.Equal("bare", ExpectMsg<KubeNodeDeleted>(Wait).Node.Name);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Progress_counts_every_applied_change_by_outcome_up_to_the_servers_resourceVersion()
    {
        var progress = NodeWatchProgress.Get(Sys);
        Assert.Null(progress.Current);
        StartWatcher();
        await ExpectInitialSync();
        var listed = progress.Current!;
        Assert.Equal((2L, 2L, 1L), (listed.Nodes, listed.Added, listed.Lists));
        Assert.NotNull(listed.LastListAt);
        Assert.True(listed.LastListTook > TimeSpan.Zero);

        // Irrelevant (label), relevant (annotation), gone (delete): each one counted once, under its outcome.
        await _client.CoreV1.PatchNodeAsync(body: new V1Patch("""{"metadata":{"labels":{"x":"1"}}}""", V1Patch.PatchType.MergePatch), name: "node-a");
        await _client.CoreV1.PatchNodeAsync(body: new V1Patch("""{"metadata":{"annotations":{"flannel.alpha.coreos.com/public-ip":"10.99.0.9"}}}""", V1Patch.PatchType.MergePatch), name: "node-a");
        await _client.CoreV1.DeleteNodeAsync(name: "bare");
        ExpectMsg<KubeNodeUpdated>(Wait);
        ExpectMsg<KubeNodeDeleted>(Wait);

        var now = progress.Current!;
        Assert.Equal((1L, 2L, 1L, 1L, 1L), (now.Nodes, now.Added, now.Updated, now.Unchanged, now.Deleted));
        Assert.Equal(_server.Store.Revision, now.ResourceVersion);
    }

    [Fact]
    public async Task A_watch_expired_by_the_server_is_relisted_and_diffed_without_missing_events()
    {
        StartWatcher();
        await ExpectInitialSync();
        await Poll.UntilAsync(() => _server.Store.OpenWatchCount == 1, TimeSpan.FromSeconds(15), "the watcher is watching", 25);

        // Cut the watch with a 410 and change things while the history is gone: only a re-list can see them.
        _server.Store.ExpireWatches();
        _server.Put(Seed.Node("node-d", "10.244.4.0/24"));
        _server.Store.Delete(ResourceType.Nodes, null, "node-a");
        _server.Store.Compact();

        var got = new List<object>();
        FishForMessage(m => { got.Add(m); return m is KubeNodesSynced; }, Wait);
        Assert.Contains(got, m => m is KubeNodeAdded { Node.Name: "node-d" });
        Assert.Contains(got, m => m is KubeNodeDeleted { Node.Name: "node-a", Node.BackendType: "vxlan" });
        Assert.Equal(["bare", "node-d"], ((KubeNodesSynced)got[^1]).Nodes.Select(n => n.Name));

        // And the new watch is live.
        await _client.CoreV1.CreateNodeAsync(body: Seed.Node("node-e"));
        Assert.Equal("node-e", ExpectMsg<KubeNodeAdded>(Wait).Node.Name);
    }

    [Fact]
    public async Task A_plain_disconnect_resumes_from_the_last_version_without_a_relist()
    {
        StartWatcher();
        await ExpectInitialSync();
        await Poll.UntilAsync(() => _server.Store.OpenWatchCount == 1, TimeSpan.FromSeconds(15), "the watcher is watching", 25);

        // Changes made while no watch is open are replayed from the retained history.
        Assert.Equal(1, _server.Store.DisconnectWatches());
        _server.Put(Seed.Node("node-f", "10.244.6.0/24"));
        _server.Store.Delete(ResourceType.Nodes, null, "bare");

        Assert.Equal("node-f", ExpectMsg<KubeNodeAdded>(Wait).Node.Name);
        Assert.Equal("bare", ExpectMsg<KubeNodeDeleted>(Wait).Node.Name);
        // A re-list would end with KubeNodesSynced; resuming does not.
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task Resumes_from_bookmark_versions_after_the_history_moved_on()
    {
        StartWatcher();
        await ExpectInitialSync();
        await Poll.UntilAsync(() => _server.Store.OpenWatchCount == 1, TimeSpan.FromSeconds(15), "the watcher is watching", 25);

        // Unrelated writes (pods) advance the revision; bookmarks let the watcher resume past them even after compaction.
        _server.Put(Seed.Namespace(Seed.FlannelNamespace), Seed.FlannelPod("p", "node-a", "10.99.0.1"));
        var revision = _server.Store.Revision;
        var lists = NodeLists();
        await Task.Delay(TimeSpan.FromMilliseconds(900));
        _server.Store.Compact();
        _server.Store.DisconnectWatches();
        _server.Put(Seed.Node("node-g"));
        Assert.Equal("node-g", ExpectMsg<KubeNodeAdded>(Wait).Node.Name);
        Assert.True(_server.Store.Revision > revision);
        // A full re-list (what a watcher without the bookmark's version must do after the compaction) would also report
        // node-g, as a difference, and end with KubeNodesSynced; resuming lists nothing and sends nothing more.
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        Assert.Equal(lists, NodeLists());
        Assert.Equal(1L, NodeWatchProgress.Get(Sys).Current!.Lists);
    }

    /// <summary>How many times the nodes were listed (the initial list and every re-list), as the server saw it.</summary>
    private int NodeLists() => _server.Requests.Count(r => r is { Verb: "list", Resource: "nodes" });

    [Fact]
    public async Task New_subscribers_get_the_current_nodes()
    {
        var watcher = StartWatcher();
        await ExpectInitialSync();
        var probe = CreateTestProbe();
        watcher.Tell(new SubscribeKubeNodes(probe));
        var names = new[] { probe.ExpectMsg<KubeNodeAdded>(Wait).Node.Name, probe.ExpectMsg<KubeNodeAdded>(Wait).Node.Name };
        Assert.Equal(["bare", "node-a"], names.Order());
        Assert.Equal(2, probe.ExpectMsg<KubeNodesSynced>(Wait).Nodes.Count);
    }

    [Fact]
    public async Task ConfigMap_watcher_reports_net_conf_changes_only()
    {
        _server.Put(Seed.Namespace(Seed.FlannelNamespace), Seed.FlannelConfig());
        Sys.ActorOf(ConfigMapWatcherActor.Props(_client, options: FastRetry, subscriber: TestActor));
        Assert.Equal(Seed.NetConfVxlan, ExpectMsg<NetConfChanged>(Wait).NetConfJson);

        var cm = await _client.CoreV1.ReadNamespacedConfigMapAsync(name: "kube-flannel-cfg", namespaceParameter: Seed.FlannelNamespace);
        cm.Metadata.Labels = new Dictionary<string, string> { ["touched"] = "yes" };
        await _client.CoreV1.ReplaceNamespacedConfigMapAsync(body: cm, name: "kube-flannel-cfg", namespaceParameter: Seed.FlannelNamespace);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        _server.Store.ExpireWatches();
        var udp = """{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}""";
        _server.Put(Seed.FlannelConfig(udp));
        var changed = ExpectMsg<NetConfChanged>(Wait);
        Assert.Equal(udp, changed.NetConfJson);
        Assert.Equal(_server.Store.Get(ResourceType.ConfigMaps, Seed.FlannelNamespace, "kube-flannel-cfg")["metadata"]!["resourceVersion"]!.GetValue<string>(), changed.ResourceVersion);
    }
}
