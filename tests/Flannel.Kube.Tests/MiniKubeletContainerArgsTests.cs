using Flannel.MiniKubelet;
using k8s;
using k8s.Models;
using Xunit;

namespace Flannel.Kube.Tests;

/// <summary>The minimal kubelet's `podman run` arguments for deploy/kube-flannel.yml's containers: as the object says, nothing more.</summary>
public sealed class MiniKubeletContainerArgsTests
{
    private static V1DaemonSet Ds => KubernetesYaml.LoadAllFromString(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "deploy", "kube-flannel.yml"))).OfType<V1DaemonSet>().Single();

    private static PodContext Context(V1PodSpec spec) => new("kube-flannel-ds-abcde", "kube-flannel", "0123456789abcdef", "host1", "198.18.0.1", "t-h1",
        spec.Volumes.ToDictionary(v => v.Name, v => $"/node/{v.Name}"),
        new Dictionary<string, string> { ["KUBERNETES_SERVICE_HOST"] = "198.18.0.254", ["KUBERNETES_SERVICE_PORT"] = "6444" },
        "/node/sa", "io.flannel.minikubelet.node=t-h1");

    private static string? After(IReadOnlyList<string> args, string flag) => args.Zip(args.Skip(1)).Where(p => p.First == flag).Select(p => p.Second).FirstOrDefault();

    private static IEnumerable<string> All(IReadOnlyList<string> args, string flag) => args.Zip(args.Skip(1)).Where(p => p.First == flag).Select(p => p.Second);

    [Fact]
    public void The_agent_gets_only_its_capabilities_the_host_network_the_downward_api_and_its_mounts()
    {
        var spec = Ds.Spec.Template.Spec;
        var agent = spec.Containers.Single();
        var args = ContainerArgs.For(spec, agent, Context(spec), detached: true);

        Assert.DoesNotContain("--privileged", args);
        Assert.Equal("all", After(args, "--cap-drop"));
        Assert.Equal(["NET_ADMIN", "NET_RAW"], All(args, "--cap-add"));
        Assert.Equal("ns:/var/run/netns/t-h1", After(args, "--network"));
        var env = All(args, "--env").ToList();
        Assert.Contains("NODE_NAME=host1", env);
        Assert.Contains("POD_NAME=kube-flannel-ds-abcde", env);
        Assert.Contains("POD_NAMESPACE=kube-flannel", env);
        Assert.Contains("KUBERNETES_SERVICE_HOST=198.18.0.254", env);
        var mounts = All(args, "-v").ToList();
        Assert.Contains("/node/run:/run/flannel", mounts);
        Assert.Contains("/node/flannel-cfg-tls:/etc/kube-flannel", mounts);
        Assert.Contains("/node/dev-net-tun:/dev/net/tun", mounts);
        Assert.Contains("/node/sa:/var/run/secrets/kubernetes.io/serviceaccount:ro", mounts);
        Assert.Equal("""["/opt/flannel/flanneld"]""", After(args, "--entrypoint"));
        // The image, then the manifest's args, last and in order.
        Assert.Equal([agent.Image, .. agent.Args], args.TakeLast(agent.Args.Count + 1));
    }

    [Fact]
    public void Init_containers_get_no_capabilities_since_the_object_asks_for_none()
    {
        var spec = Ds.Spec.Template.Spec;
        foreach (var c in spec.InitContainers)
        {
            var args = ContainerArgs.For(spec, c, Context(spec), detached: false);
            Assert.Equal("all", After(args, "--cap-drop"));
            Assert.Empty(All(args, "--cap-add"));
            Assert.DoesNotContain("-d", args);
        }
    }

    [Fact]
    public void What_it_cannot_do_faithfully_is_refused_naming_the_field()
    {
        var spec = Ds.Spec.Template.Spec;
        var agent = spec.Containers.Single();
        var notHostNetwork = new V1PodSpec { HostNetwork = false, Containers = spec.Containers, Volumes = spec.Volumes };
        Assert.Contains("spec.hostNetwork", Assert.Throws<NotSupportedException>(() => ContainerArgs.For(notHostNetwork, agent, Context(spec), true)).Message);

        var odd = new V1Container
        {
            Name = "x", Image = "i",
            Env = [new V1EnvVar { Name = "E", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.labels['app']" } } }],
        };
        Assert.Contains("x.env[0].valueFrom.fieldRef.fieldPath", Assert.Throws<NotSupportedException>(() => ContainerArgs.For(spec, odd, Context(spec), true)).Message);

        var unknownMount = new V1Container { Name = "y", Image = "i", VolumeMounts = [new V1VolumeMount { Name = "nope", MountPath = "/x" }] };
        Assert.Contains("volumeMounts[nope]", Assert.Throws<InvalidOperationException>(() => ContainerArgs.For(spec, unknownMount, Context(spec), true)).Message);
    }
}
