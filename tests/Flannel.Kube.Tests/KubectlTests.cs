using System.Text.Json.Nodes;
using Flannel.Kube.TestServer;
using Xunit;

namespace Flannel.Kube.Tests;

/// <summary>The installed kubectl binary against the test API server, with the commands the issue and the demo use.</summary>
public sealed class KubectlTests : IAsyncLifetime
{
    private KubeTestServer _server = null!;
    private Kubectl _kubectl = null!;

    public async Task InitializeAsync()
    {
        _server = await KubeTestServer.StartAsync();
        _server.Put(Seed.Namespace(Seed.FlannelNamespace),
            Seed.Node("node-a", "10.244.1.0/24", "10.99.0.1"),
            Seed.Node("node-b", "10.244.2.0/24", "10.99.0.2"),
            Seed.FlannelPod("flannel-a", "node-a", "10.99.0.1"),
            Seed.FlannelConfig());
        _kubectl = new Kubectl(_server);
    }

    public async Task DisposeAsync()
    {
        _kubectl.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public void Get_nodes_prints_a_table()
    {
        var lines = _kubectl.Run("get", "nodes").Trim().Split('\n');
        Assert.StartsWith("NAME", lines[0]);
        Assert.Contains("STATUS", lines[0]);
        Assert.Equal(["node-a", "node-b"], lines.Skip(1).Select(l => l.Split(' ')[0]));
        Assert.All(lines.Skip(1), l => Assert.Contains("Ready", l));
    }

    [Fact]
    public void Get_nodes_as_json_is_a_list_with_pod_cidrs()
    {
        var list = JsonNode.Parse(_kubectl.Run("get", "nodes", "-o", "json"))!;
        var items = list["items"]!.AsArray();
        Assert.Equal(["10.244.1.0/24", "10.244.2.0/24"], items.Select(i => i!["spec"]!["podCIDR"]!.GetValue<string>()));
    }

    [Fact]
    public void Annotate_node_is_visible_to_the_api()
    {
        _kubectl.Run("annotate", "node", "node-a", "flannel.alpha.coreos.com/public-ip-overwrite=192.0.2.7");
        var node = _server.Get<k8s.Models.V1Node>("Node", "node-a");
        Assert.Equal("192.0.2.7", node.Metadata.Annotations["flannel.alpha.coreos.com/public-ip-overwrite"]);

        _kubectl.Run("annotate", "node", "node-a", "flannel.alpha.coreos.com/public-ip-overwrite-");
        var after = _server.Get<k8s.Models.V1Node>("Node", "node-a").Metadata.Annotations ?? new Dictionary<string, string>();
        Assert.False(after.ContainsKey("flannel.alpha.coreos.com/public-ip-overwrite"));
    }

    [Fact]
    public void Patch_configmap_with_merge_patch_then_read_it_as_yaml()
    {
        var udp = """{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}""";
        var patch = new JsonObject { ["data"] = new JsonObject { ["net-conf.json"] = udp } }.ToJsonString();
        Assert.Contains("patched", _kubectl.Run("patch", "configmap", "kube-flannel-cfg", "-n", "kube-flannel", "--type", "merge", "-p", patch));

        var yaml = _kubectl.Run("get", "configmap", "kube-flannel-cfg", "-n", "kube-flannel", "-o", "yaml");
        Assert.Contains("kind: ConfigMap", yaml);
        Assert.Contains("net-conf.json: '{\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"udp\"}}'", yaml);
        Assert.Equal(udp, _server.Get<k8s.Models.V1ConfigMap>("ConfigMap", "kube-flannel-cfg", "kube-flannel").Data["net-conf.json"]);
    }

    [Fact]
    public void Edit_configmap_with_an_editor_goes_through_strict_validation()
    {
        var env = new Dictionary<string, string> { ["EDITOR"] = "sed -i s/vxlan/host-gw/" };
        var (code, stdout, stderr) = _kubectl.TryRun(env, "edit", "configmap", "kube-flannel-cfg", "-n", "kube-flannel");
        Assert.True(code == 0, stderr);
        Assert.Contains("edited", stdout);
        Assert.Contains("host-gw", _server.Get<k8s.Models.V1ConfigMap>("ConfigMap", "kube-flannel-cfg", "kube-flannel").Data["net-conf.json"]);
    }

    [Fact]
    public void Strategic_patch_of_node_status_merges_conditions()
    {
        _kubectl.Run("patch", "node", "node-a", "--subresource", "status", "-p",
            """{"status":{"conditions":[{"type":"NetworkUnavailable","status":"False","reason":"FlannelIsUp"}]}}""");
        var node = JsonNode.Parse(_kubectl.Run("get", "node", "node-a", "-o", "json"))!;
        var types = node["status"]!["conditions"]!.AsArray().Select(c => c!["type"]!.GetValue<string>()).ToList();
        Assert.Equal(["Ready", "NetworkUnavailable"], types);
    }

    [Fact]
    public void Delete_node_removes_it()
    {
        Assert.Contains("deleted", _kubectl.Run("delete", "node", "node-b"));
        var (code, _, stderr) = _kubectl.TryRun(null, "get", "node", "node-b");
        Assert.NotEqual(0, code);
        Assert.Contains("NotFound", stderr);
        Assert.Equal(["node-a"], JsonNode.Parse(_kubectl.Run("get", "nodes", "-o", "json"))!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
    }

    [Fact]
    public void Get_pods_across_namespaces_with_a_label_selector()
    {
        var output = _kubectl.Run("get", "pods", "-A", "-l", "app=flannel", "-o", "name");
        Assert.Equal("pod/flannel-a", output.Trim());
    }
}
