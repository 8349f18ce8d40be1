using System.Text.Json.Nodes;
using Flannel.E2E.Kube;
using Flannel.Demo;
using Flannel.MiniKubelet;
using Xunit;
using Xunit.Abstractions;

namespace Flannel.E2E.Image;

/// <summary>
/// The DaemonSet as shipped, run from the image: `kubectl apply` twice is idempotent; each host's agent runs as the
/// object says (only NET_ADMIN and NET_RAW, the host's network, downward API env) and installed the CNI plugin and
/// conflist where kubelet looks; pods made by that plugin reach each other across hosts; a DaemonSet image change
/// replaces every pod one node at a time and the pods keep talking; `kubectl delete -f` stops the pods and the agents leave the cluster
/// (last). Skipped, with the reason printed, only when this machine cannot run containers.
/// </summary>
[Collection(Agent.AgentE2ECollection.Name)]
[TestCaseOrderer(StepOrderer.Name, StepOrderer.Assembly)]
public sealed class KubeImageE2ETests(KubeImageCluster cluster, ITestOutputHelper output) : IClassFixture<KubeImageCluster>
{
    private const string NextImage = "localhost/flanneld:e2e-next";
    private KubeImageTopology Kube => cluster.Kube;

    private void SkipUnlessContainers() => ImageEnvironment.SkipUnlessContainers(cluster.Skip, output);

    private static string[] Lines(string s) => s.Trim().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private JsonArray AgentContainers(TopologyHost h) => JsonNode.Parse(Podman.Check("ps", "--format", "json", "--filter",
        $"label={KubeImageTopology.KubeletLabel(h)}", "--filter", "label=io.kubernetes.container.name=kube-flannel"))!.AsArray();

    [SkippableFact, Step(1)]
    public void Apply_creates_everything_once_and_again_changes_nothing()
    {
        SkipUnlessContainers();
        Assert.Equal(8, Lines(cluster.FirstApply).Count(l => l.EndsWith(" created", StringComparison.Ordinal)));
        var uids = Kube.Kubectl("-n", "kube-flannel", "get", "pods", "-o", "jsonpath={.items[*].metadata.uid}");
        var again = Lines(Kube.Kubectl("apply", "-f", cluster.Manifest));
        Assert.Equal(8, again.Length);
        Assert.All(again, l => Assert.EndsWith(" unchanged", l));
        Assert.Equal(uids, Kube.Kubectl("-n", "kube-flannel", "get", "pods", "-o", "jsonpath={.items[*].metadata.uid}"));
    }

    [SkippableFact, Step(2)]
    public void Each_agent_runs_as_the_DaemonSet_says_and_installed_the_CNI_plugin()
    {
        SkipUnlessContainers();
        var pods = Kube.FlannelPods();
        Assert.Equal(Kube.Cluster.Hosts.Select(h => h.NodeName).Order(), pods.Select(p => p.Node).Order());
        Assert.All(pods, p => Assert.True(p.Ready && p.Phase == "Running", $"{p.Name}: {p.Phase} ready={p.Ready} {p.Message}"));
        Assert.Contains("3 Running / 0 Waiting / 0 Succeeded / 0 Failed", Kube.Kubectl("-n", "kube-flannel", "describe", "ds", "kube-flannel-ds"));
        var plugin = File.ReadAllBytes(Environment.GetEnvironmentVariable("FLANNEL_CNI_PLUGIN") ?? CniPluginBinary.Locate());
        foreach (var h in Kube.Cluster.Hosts)
        {
            var id = Assert.Single(AgentContainers(h))!["Id"]!.GetValue<string>();
            var inspect = JsonNode.Parse(Podman.Check("inspect", id))![0]!;
            var caps = inspect["EffectiveCaps"]!.AsArray().Select(c => c!.GetValue<string>()).Order().ToList();
            Assert.Equal(["CAP_NET_ADMIN", "CAP_NET_RAW"], caps);
            Assert.False(inspect["HostConfig"]!["Privileged"]!.GetValue<bool>());
            Assert.Equal($"ns:/var/run/netns/{h.Namespace}", inspect["HostConfig"]!["NetworkMode"]!.GetValue<string>());
            var env = inspect["Config"]!["Env"]!.AsArray().Select(e => e!.GetValue<string>()).ToList();
            var pod = pods.Single(p => p.Node == h.NodeName);
            Assert.Contains($"POD_NAME={pod.Name}", env);
            Assert.Contains("POD_NAMESPACE=kube-flannel", env);
            Assert.Contains($"NODE_NAME={h.NodeName}", env);

            var root = KubeImageTopology.HostRoot(h);
            Assert.Equal(plugin, File.ReadAllBytes(Path.Combine(root, "opt", "cni", "bin", "flannel")));
            Assert.Equal(ImageEnvironment.ConfigMap.Data["cni-conf.json"], File.ReadAllText(Path.Combine(root, "etc", "cni", "net.d", "10-flannel.conflist")));
            Assert.Contains($"FLANNEL_SUBNET=10.244.{h.Index}.1/24", File.ReadAllText(Path.Combine(root, "run", "flannel", "subnet.env")));
        }
    }

    [SkippableFact, Step(3)]
    public void Pods_made_by_the_installed_plugin_reach_each_other_across_hosts()
    {
        SkipUnlessContainers();
        var pairs = (from a in cluster.Pods from b in cluster.Pods where a != b select (a, b)).ToList();
        var failed = pairs.AsParallel().Where(p => !ClusterTopology.Ping(p.a, p.b)).Select(p => $"{p.a} -> {p.b}").ToList();
        Assert.Empty(failed);
    }

    [SkippableFact, Step(4)]
    public async Task An_image_change_rolls_one_node_at_a_time_and_the_pods_keep_talking()
    {
        SkipUnlessContainers();
        // The same image under a new name: the DaemonSet's template changes, the agent's code does not.
        Podman.Check("tag", ImageEnvironment.ImageName, NextImage);
        var before = Kube.Kubectl("-n", "kube-flannel", "get", "pods", "-o", "jsonpath={.items[*].metadata.uid}").Split(' ');
        using var ping = PingRecorder.Start(cluster.Pods[0], cluster.Pods[1]);
        Kube.Kubectl("-n", "kube-flannel", "set", "image", "ds/kube-flannel-ds", $"kube-flannel={NextImage}");
        // maxUnavailable 1: one node at a time, so at least 2 of the 3 nodes have a Ready pod at every look.
        var fewestReady = 3;
        await Flannel.Testing.Poll.UntilAsync(() =>
        {
            var uids = Kube.Kubectl("-n", "kube-flannel", "get", "pods", "-o", "jsonpath={.items[*].metadata.uid}").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var pods = Kube.FlannelPods();
            fewestReady = Math.Min(fewestReady, pods.Where(p => p.Ready).Select(p => p.Node).Distinct().Count());
            return uids.Length == 3 && !uids.Intersect(before).Any() && pods.All(p => p.Ready);
        }, TimeSpan.FromSeconds(240), "every flannel pod replaced and Ready", intervalMs: 200);
        output.WriteLine($"fewest nodes with a Ready flannel pod during the roll: {fewestReady}");
        Assert.True(fewestReady >= 2, $"the roll took {3 - fewestReady} nodes down at once");
        await Kube.Cluster.WaitReadyAsync(TimeSpan.FromSeconds(90));
        var loss = ping.Stop();
        output.WriteLine($"ping {cluster.Pods[0]} -> {cluster.Pods[1]} during the roll: {loss}");
        foreach (var h in Kube.Cluster.Hosts)
            Assert.Equal(NextImage, Assert.Single(AgentContainers(h))!["Image"]!.GetValue<string>());
        var pairs = (from a in cluster.Pods from b in cluster.Pods where a != b select (a, b)).ToList();
        Assert.Empty(pairs.AsParallel().Where(p => !ClusterTopology.Ping(p.a, p.b)).Select(p => $"{p.a} -> {p.b}").ToList());
    }

    [SkippableFact, Step(5)]
    public async Task Delete_f_stops_the_pods_and_the_agents_leave_the_cluster()
    {
        SkipUnlessContainers();
        var logs = Kube.Cluster.Hosts.Select(h => KubeImageTopology.AgentLog(h)!).ToList();
        var deleted = Lines(Kube.Kubectl("delete", "-f", cluster.Manifest));
        Assert.Equal(8, deleted.Count(l => l.EndsWith(" deleted", StringComparison.Ordinal)));
        // The kubelets stop a pod's containers, then delete its object.
        await Flannel.Testing.Poll.UntilAsync(() => Kube.Kubectl("get", "pods", "--all-namespaces", "-o", "name").Trim().Length == 0,
            TimeSpan.FromSeconds(90), "every flannel pod gone", intervalMs: 500);
        Assert.All(Kube.Cluster.Hosts, h => Assert.Empty(AgentContainers(h)));
        // Each agent left gracefully on SIGTERM: the member removal finished before it exited.
        foreach (var log in logs) Assert.Contains("Exiting completed", File.ReadAllText(log));
        Podman.Check("rmi", NextImage);
    }
}
