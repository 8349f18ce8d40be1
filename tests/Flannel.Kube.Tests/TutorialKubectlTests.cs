using System.Text.Json.Nodes;
using Flannel.Kube.TestServer;
using Xunit;

namespace Flannel.Kube.Tests;

/// <summary>
/// The seed tutorial's kubectl steps, with the installed kubectl and no flags, against the test API server:
/// `kubectl apply -f deploy/kube-flannel.yml` (twice), the describe commands, `get nodes -o json | grep CIDR`, patch,
/// edit, `kubectl delete -f`.
/// </summary>
public sealed class TutorialKubectlTests : IAsyncLifetime
{
    private static readonly string Manifest = Path.Combine(AppContext.BaseDirectory, "deploy", "kube-flannel.yml");
    private static readonly string[] Objects =
    [
        "namespace/kube-flannel", "serviceaccount/flannel", "clusterrole.rbac.authorization.k8s.io/flannel",
        "clusterrolebinding.rbac.authorization.k8s.io/flannel", "role.rbac.authorization.k8s.io/flannel",
        "rolebinding.rbac.authorization.k8s.io/flannel", "configmap/kube-flannel-cfg", "daemonset.apps/kube-flannel-ds",
    ];

    private KubeTestServer _server = null!;
    private Kubectl _kubectl = null!;

    public async Task InitializeAsync()
    {
        _server = await KubeTestServer.StartAsync();
        _server.Put(Seed.Node("node-a", "10.244.0.0/24", "198.18.0.1"));
        _kubectl = new Kubectl(_server);
    }

    public async Task DisposeAsync()
    {
        _kubectl.Dispose();
        await _server.DisposeAsync();
    }

    private static string[] Lines(string output) => output.Trim().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Apply_creates_every_object_and_applying_again_changes_nothing()
    {
        Assert.Equal(Objects.Select(o => o + " created"), Lines(_kubectl.Run("apply", "-f", Manifest)));
        var revision = _server.Store.Revision;

        Assert.Equal(Objects.Select(o => o + " unchanged"), Lines(_kubectl.Run("apply", "-f", Manifest)));
        Assert.Equal(revision, _server.Store.Revision);

        var ds = JsonNode.Parse(_kubectl.Run("-n", "kube-flannel", "get", "ds", "kube-flannel-ds", "-o", "json"))!;
        Assert.Equal("apps/v1", ds["apiVersion"]!.GetValue<string>());
        Assert.Equal(1, ds["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal(["install-cni-plugin", "install-cni"], ds["spec"]!["template"]!["spec"]!["initContainers"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        var role = JsonNode.Parse(_kubectl.Run("get", "clusterrole", "flannel", "-o", "json"))!;
        Assert.Equal("rbac.authorization.k8s.io/v1", role["apiVersion"]!.GetValue<string>());
        Assert.Equal(["nodes", "nodes/status"], role["rules"]!.AsArray().Select(r => r!["resources"]![0]!.GetValue<string>()));
    }

    [Fact]
    public void Api_resources_lists_the_manifest_kinds_in_their_groups()
    {
        var lines = Lines(_kubectl.Run("api-resources", "--no-headers"));
        string Row(string name) => Assert.Single(lines, l => l.StartsWith(name + " ", StringComparison.Ordinal));
        Assert.Contains("apps/v1", Row("daemonsets"));
        Assert.Contains("rbac.authorization.k8s.io/v1", Row("clusterrolebindings"));
        Assert.Contains("rbac.authorization.k8s.io/v1", Row("roles"));
        Assert.Contains("ServiceAccount", Row("serviceaccounts"));
        Assert.Contains("Secret", Row("secrets"));
    }

    [Fact]
    public void Describe_answers_as_in_the_tutorial()
    {
        _kubectl.Run("apply", "-f", Manifest);

        var sa = _kubectl.Run("-n", "kube-flannel", "describe", "sa", "flannel");
        Assert.Matches(@"Name:\s+flannel\n", sa);
        Assert.Matches(@"Namespace:\s+kube-flannel\n", sa);

        var cm = _kubectl.Run("describe", "cm", "kube-flannel-cfg", "--namespace=kube-flannel");
        Assert.Matches(@"Labels:\s+app=flannel\n", cm);
        Assert.Contains("net-conf.json:\n----\n{\n  \"Network\": \"10.244.0.0/16\",", cm);
        Assert.Contains("\"Type\": \"vxlan\"", cm);

        var ds = _kubectl.Run("describe", "ds", "kube-flannel-ds", "--namespace=kube-flannel");
        Assert.Matches(@"Selector:\s+app=flannel,k8s-app=flannel\n", ds);
        Assert.Contains("Service Account:  flannel", ds);
        Assert.Contains("Init Containers:\n   install-cni-plugin:", ds);
        Assert.Matches(@"kube-flannel:\n\s+Image:\s+ghcr.io/flannel-net/flanneld:v0.1.0", ds);
        Assert.Matches(@"POD_NAME:\s+\(v1:metadata.name\)", ds);
        Assert.Contains("Readiness:  http-get //:8081/readyz delay=0s timeout=1s period=5s #success=1 #failure=3", ds);
        Assert.Matches(@"/etc/cni/net.d from cni \(rw\)", ds);
        Assert.Matches(@"Type:\s+ConfigMap \(a volume populated by a ConfigMap\)", ds);
        Assert.Contains("Pods Status:  0 Running / 0 Waiting / 0 Succeeded / 0 Failed", ds);
    }

    [Fact]
    public void Node_pod_cidr_matches_the_network_as_grep_CIDR_shows()
    {
        var cidrs = _kubectl.Run("get", "nodes", "-o", "json").Split('\n').Where(l => l.Contains("CIDR", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        Assert.Contains(cidrs, l => l.StartsWith("\"podCIDR\": \"10.244.0.0/24\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Patch_and_edit_of_the_configmap_reach_the_stored_object()
    {
        _kubectl.Run("apply", "-f", Manifest);
        _kubectl.Run("-n", "kube-flannel", "patch", "configmap", "kube-flannel-cfg", "--type", "merge", "-p",
            """{"data":{"net-conf.json":"{\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"udp\"}}"}}""");
        Assert.Contains("udp", _server.Get<k8s.Models.V1ConfigMap>("ConfigMap", "kube-flannel-cfg", "kube-flannel").Data["net-conf.json"]);

        var (code, stdout, stderr) = _kubectl.TryRun(new Dictionary<string, string> { ["EDITOR"] = "sed -i s/udp/vxlan/" },
            "edit", "cm", "kube-flannel-cfg", "--namespace=kube-flannel");
        Assert.True(code == 0, stderr);
        Assert.Contains("edited", stdout);
        Assert.Contains("vxlan", _server.Get<k8s.Models.V1ConfigMap>("ConfigMap", "kube-flannel-cfg", "kube-flannel").Data["net-conf.json"]);
    }

    [Fact]
    public void A_daemonset_image_change_is_stored_and_seen_by_a_watch()
    {
        _kubectl.Run("apply", "-f", Manifest);
        var watch = _server.Store.OpenWatch(TutorialResourceTypes.DaemonSets, "kube-flannel", LabelSelector.Parse(null), FieldSelector.Parse(null),
            _server.Store.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture), bookmarks: false);
        try
        {
            _kubectl.Run("-n", "kube-flannel", "set", "image", "ds/kube-flannel-ds", "kube-flannel=localhost/flanneld:next");
            Assert.True(watch.Reader.TryRead(out var frame));
            Assert.Equal("MODIFIED", frame!["type"]!.GetValue<string>());
            Assert.Equal("localhost/flanneld:next", frame["object"]!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());
            Assert.Equal(2, frame["object"]!["metadata"]!["generation"]!.GetValue<long>());
        }
        finally
        {
            watch.Close();
        }
    }

    [Fact]
    public void Delete_f_removes_every_object_of_the_manifest()
    {
        _kubectl.Run("apply", "-f", Manifest);
        Assert.Equal(Objects.Select(o => $"{o.Split('/')[0]} \"{o.Split('/')[1]}\" deleted"), Lines(_kubectl.Run("delete", "-f", Manifest)));
        foreach (var type in TutorialResourceTypes.All.Append(ResourceType.ConfigMaps).Append(ResourceType.Namespaces))
            Assert.Equal(0, _server.Store.List(type, null, LabelSelector.Parse(null), FieldSelector.Parse(null)).Total);
    }
}
