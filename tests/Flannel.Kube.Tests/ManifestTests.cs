using Flannel.Testing;
using System.Collections;
using System.Net;
using System.Text.Json;
using Akka.TestKit.Xunit2;
using Flannel.Actors.Kubernetes;
using Flannel.Host.Kubernetes;
using Flannel.Host.Options;
using Flannel.Kube.TestServer;
using Flannel.Net.Config;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Flannel.Kube.Tests;

/// <summary>deploy/kube-flannel.yml, loaded with KubernetesClient's own YAML loader into typed objects.</summary>
public sealed class ManifestTests : TestKit
{
    private static readonly List<object> Objects = KubernetesYaml.LoadAllFromString(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "deploy", "kube-flannel.yml")));

    private static T One<T>(string? name = null) where T : IKubernetesObject<V1ObjectMeta> =>
        Assert.Single(Objects.OfType<T>(), o => name is null || o.Metadata.Name == name);

    private static V1DaemonSet DaemonSet => One<V1DaemonSet>("kube-flannel-ds");
    private static V1Container Agent => Assert.Single(DaemonSet.Spec.Template.Spec.Containers);

    [Fact]
    public void Every_document_is_a_known_typed_object_in_the_flannel_namespace()
    {
        Assert.Equal(["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap", "DaemonSet"],
            Objects.Cast<IKubernetesObject>().Select(o => o.Kind));
        var ns = One<V1Namespace>("kube-flannel");
        Assert.Equal("privileged", ns.Metadata.Labels["pod-security.kubernetes.io/enforce"]);
        Assert.All(new IKubernetesObject<V1ObjectMeta>[]
                { One<V1ServiceAccount>("flannel"), One<V1Role>("flannel"), One<V1RoleBinding>("flannel"), One<V1ConfigMap>("kube-flannel-cfg"), DaemonSet },
            o => Assert.Equal("kube-flannel", o.Metadata.NamespaceProperty));
    }

    [Fact]
    public void ConfigMap_holds_a_valid_net_conf_and_the_cni_conflist()
    {
        var cm = One<V1ConfigMap>("kube-flannel-cfg");
        Assert.Equal(["cni-conf.json", "net-conf.json"], cm.Data.Keys.Order());

        var netConf = NetConf.Parse(cm.Data["net-conf.json"]);
        Assert.Equal(IPNetwork.Parse("10.244.0.0/16"), netConf.Network);
        Assert.Equal("vxlan", netConf.Backend.Type);

        using var cni = JsonDocument.Parse(cm.Data["cni-conf.json"]);
        var root = cni.RootElement;
        Assert.Equal(("cbr0", "0.3.1"), (root.GetProperty("name").GetString(), root.GetProperty("cniVersion").GetString()));
        var plugins = root.GetProperty("plugins").EnumerateArray().ToList();
        Assert.Equal(["flannel", "portmap"], plugins.Select(p => p.GetProperty("type").GetString()));
        var @delegate = plugins[0].GetProperty("delegate");
        Assert.True(@delegate.GetProperty("hairpinMode").GetBoolean());
        Assert.True(@delegate.GetProperty("isDefaultGateway").GetBoolean());
        Assert.True(plugins[1].GetProperty("capabilities").GetProperty("portMappings").GetBoolean());
    }

    [Fact]
    public void Agent_flags_parse_and_probes_use_the_healthz_port()
    {
        var args = (Agent.Command ?? []).Skip(1).Concat(Agent.Args ?? []).ToArray();
        var options = FlanneldOptions.Parse(args, new Hashtable(), "node-a");
        Assert.True(options.KubeSubnetMgr);
        Assert.True(options.IpMasq);
        Assert.Equal(8081, options.HealthzPort);

        Assert.Equal(("/healthz", "8081"), (Agent.LivenessProbe.HttpGet.Path, Agent.LivenessProbe.HttpGet.Port.Value));
        Assert.Equal(("/readyz", "8081"), (Agent.ReadinessProbe.HttpGet.Path, Agent.ReadinessProbe.HttpGet.Port.Value));
        Assert.Contains(Agent.Ports, p => p.ContainerPort == options.HealthzPort);

        // The files the flags point at are where the volumes are mounted.
        var mounts = Agent.VolumeMounts.ToDictionary(m => m.Name, m => m.MountPath.TrimEnd('/'));
        Assert.Equal(Path.GetDirectoryName(options.NetConfigPath), mounts["flannel-cfg-tls"]);
        Assert.Equal("/run/flannel", mounts["run"]);
        Assert.Equal("/run/xtables.lock", mounts["xtables-lock"]);
        Assert.Equal(Path.GetDirectoryName(options.LeaseStore), mounts["lease-store"]);
    }

    [Fact]
    public void DaemonSet_runs_on_the_host_network_with_only_the_capabilities_it_needs()
    {
        var pod = DaemonSet.Spec.Template.Spec;
        Assert.True(pod.HostNetwork);
        Assert.Equal("flannel", pod.ServiceAccountName);
        Assert.Equal(DaemonSet.Spec.Selector.MatchLabels, DaemonSet.Spec.Template.Metadata.Labels.Where(l => DaemonSet.Spec.Selector.MatchLabels.ContainsKey(l.Key)).ToDictionary());
        // Seed discovery finds the agents with this label.
        Assert.Equal("flannel", DaemonSet.Spec.Template.Metadata.Labels["app"]);
        Assert.False(Agent.SecurityContext.Privileged);
        Assert.Equal(["NET_ADMIN", "NET_RAW"], Agent.SecurityContext.Capabilities.Add.Order());
        Assert.Contains(pod.Tolerations, t => t.OperatorProperty == "Exists" && t.Effect == "NoSchedule");
        Assert.NotNull(Agent.Resources.Requests["cpu"]);
        Assert.NotNull(Agent.Resources.Limits["memory"]);

        var env = Agent.Env.ToDictionary(e => e.Name, e => e.ValueFrom?.FieldRef?.FieldPath);
        Assert.Equal("spec.nodeName", env["NODE_NAME"]);
        Assert.Equal("metadata.name", env["POD_NAME"]);
        Assert.Equal("metadata.namespace", env["POD_NAMESPACE"]);

        var hostPaths = pod.Volumes.Where(v => v.HostPath is not null).ToDictionary(v => v.Name, v => v.HostPath.Path);
        Assert.Equal("/run/flannel", hostPaths["run"]);
        Assert.Equal("/opt/cni/bin", hostPaths["cni-plugin"]);
        Assert.Equal("/etc/cni/net.d", hostPaths["cni"]);
        // The lease store must outlive the pod and a reboot: a host directory, not /run.
        Assert.Equal("/var/lib/flannel", hostPaths["lease-store"]);
        Assert.Equal("kube-flannel-cfg", pod.Volumes.Single(v => v.Name == "flannel-cfg").ConfigMap.Name);
    }

    [Fact]
    public void The_agent_runs_with_cluster_TLS_from_the_Secret_projected_next_to_the_ConfigMap()
    {
        var args = (Agent.Command ?? []).Skip(1).Concat(Agent.Args ?? []).ToArray();
        var options = FlanneldOptions.Parse(args, new Hashtable(), "node-a");
        Assert.True(options.HasClusterTls);
        Assert.False(options.ClusterInsecure);

        var volume = DaemonSet.Spec.Template.Spec.Volumes.Single(v => v.Name == "flannel-cfg-tls").Projected;
        Assert.Equal("kube-flannel-cfg", volume.Sources.Single(s => s.ConfigMap is not null).ConfigMap.Name);
        var secret = volume.Sources.Single(s => s.Secret is not null).Secret;
        Assert.Equal("kube-flannel-cluster-tls", secret.Name);
        Assert.NotEqual(true, secret.Optional);
        var mount = Agent.VolumeMounts.Single(m => m.Name == "flannel-cfg-tls").MountPath.TrimEnd('/');
        var files = secret.Items.ToDictionary(i => i.Key, i => $"{mount}/{i.Path}");
        Assert.Equal(files["tls.crt"], options.ClusterTlsCert);
        Assert.Equal(files["tls.key"], options.ClusterTlsKey);
        Assert.Equal(files["ca.crt"], options.ClusterTlsCa);
        Assert.Equal(0x100, secret.Items.Single(i => i.Key == "tls.key").Mode); // 0400
    }

    [Fact]
    public void Init_containers_install_the_plugin_and_conflist_atomically()
    {
        var inits = DaemonSet.Spec.Template.Spec.InitContainers.ToDictionary(c => c.Name, c => string.Join(' ', c.Command.Concat(c.Args)));
        var plugin = inits["install-cni-plugin"];
        // The native `flannel` plugin the image ships next to flanneld (deploy/Dockerfile), not the agent.
        Assert.Contains("cp -f /opt/flannel/flannel /opt/cni/bin/flannel.tmp", plugin);
        Assert.EndsWith("mv -f /opt/cni/bin/flannel.tmp /opt/cni/bin/flannel", plugin);
        var conf = inits["install-cni"];
        Assert.Contains("/etc/kube-flannel/cni-conf.json", conf);
        Assert.EndsWith("mv -f /etc/cni/net.d/10-flannel.conflist.tmp /etc/cni/net.d/10-flannel.conflist", conf);
    }

    /// <summary>The agent's permissions, read from the manifest: both bindings must name the flannel ServiceAccount.</summary>
    private static RbacRules AgentRbac()
    {
        var clusterRole = One<V1ClusterRole>("flannel");
        var clusterBinding = One<V1ClusterRoleBinding>("flannel");
        Assert.Equal(("ClusterRole", "flannel"), (clusterBinding.RoleRef.Kind, clusterBinding.RoleRef.Name));
        var role = One<V1Role>("flannel");
        var binding = One<V1RoleBinding>("flannel");
        Assert.Equal(("Role", "flannel", "kube-flannel"), (binding.RoleRef.Kind, binding.RoleRef.Name, binding.Metadata.NamespaceProperty));
        foreach (var subject in new[] { Assert.Single(clusterBinding.Subjects), Assert.Single(binding.Subjects) })
            Assert.Equal(("ServiceAccount", "flannel", "kube-flannel"), (subject.Kind, subject.Name, subject.NamespaceProperty));
        return new RbacRules(clusterRole.Rules, role.Metadata.NamespaceProperty, role.Rules);
    }

    [Fact]
    public void Rbac_is_as_small_as_upstreams()
    {
        AgentRbac();
        // Cluster-wide: nodes only. Namespaced (kube-flannel): the agents' pods, the one ConfigMap, events.
        Assert.Equal(["nodes/status:patch", "nodes:get", "nodes:list", "nodes:watch"], RbacRules.Grants(One<V1ClusterRole>("flannel").Rules));
        Assert.Equal(["configmaps:get:kube-flannel-cfg", "configmaps:watch:kube-flannel-cfg", "events:create", "pods:list", "pods:watch"],
            RbacRules.Grants(One<V1Role>("flannel").Rules));
    }

    [Theory]
    [InlineData("get", "configmaps", "kube-flannel", "kube-flannel-cfg", true)]
    [InlineData("watch", "configmaps", "kube-flannel", "kube-flannel-cfg", true)]
    [InlineData("get", "configmaps", "kube-flannel", "other", false)]
    [InlineData("list", "configmaps", "kube-flannel", null, false)]
    [InlineData("watch", "configmaps", "kube-flannel", null, false)]
    [InlineData("get", "configmaps", "default", "kube-flannel-cfg", false)]
    [InlineData("list", "pods", "kube-flannel", null, true)]
    [InlineData("list", "pods", "default", null, false)]
    [InlineData("get", "pods", "kube-flannel", "kube-flannel-ds-1", false)]
    [InlineData("create", "events", "kube-flannel", null, true)]
    [InlineData("create", "events", "kube-system", null, false)]
    [InlineData("get", "secrets", "kube-flannel", "kube-flannel-cluster-tls", false)]
    [InlineData("patch", "nodes", null, "node-a", false)]
    [InlineData("get", "nodes", null, "node-a", true)]
    public void Rbac_decides_like_the_api_server(string verb, string resource, string? ns, string? name, bool allowed) =>
        Assert.Equal(allowed, AgentRbac().Allows(new ApiRequest(verb, resource, null, ns, name)));

    [Fact]
    public async Task Rbac_covers_every_call_the_agent_makes()
    {
        var rbac = AgentRbac();

        // Run every Kubernetes component of the agent against the test server and record what it asked for.
        await using var server = await KubeTestServer.StartAsync();
        server.Put(Seed.Namespace("kube-flannel"), Seed.Node("node-a", "10.244.1.0/24", "10.99.0.1"),
            Seed.FlannelPod("kube-flannel-ds-1", "node-a", "10.99.0.1"), Seed.FlannelConfig());
        using var client = server.CreateClient();
        var env = new Dictionary<string, string> { ["POD_NAME"] = "kube-flannel-ds-1", ["POD_NAMESPACE"] = "kube-flannel" };
        var nodeName = await NodeNameResolver.ResolveAsync(client, k => env.GetValueOrDefault(k));
        // The start-up reads: the node's podCIDR and public-ip-overwrite, the ConfigMap's net-conf.json (no file mounted).
        await KubeNodeContext.LoadAsync(new FlanneldOptions
        {
            KubeSubnetMgr = true, KubeApiUrl = server.BaseUri.ToString(), NodeName = nodeName, PodNamespace = "kube-flannel",
            NetConfigPath = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "net-conf.json"),
        }, NullLogger.Instance, CancellationToken.None);
        var nodes = CreateTestProbe();
        Sys.ActorOf(NodeWatcherActor.Props(client, subscriber: nodes));
        nodes.ExpectMsg<KubeNodeAdded>();
        Sys.ActorOf(ConfigMapWatcherActor.Props(client, subscriber: TestActor));
        ExpectMsg<NetConfChanged>();
        var publisher = new NodeAnnotationPublisher(client, NullLogger.Instance);
        await publisher.PublishAsync(nodeName, new NodeAnnouncement("vxlan", "{}", IPAddress.Parse("10.99.0.1")));
        await publisher.MarkNetworkAvailableAsync(nodeName);
        await new KubeEventRecorder(client, NullLogger.Instance).ConfigRefusedAsync("kube-flannel", "kube-flannel-cfg", "refused");
        KubernetesClientExtension.Get(Sys).Client = client;
        Sys.Settings.InjectTopLevelFallback(KubernetesSeedDiscovery.Hocon(new SeedDiscoveryOptions(PodNamespace: "kube-flannel")));
        await Akka.Discovery.Discovery.Get(Sys).LoadServiceDiscovery(KubernetesSeedDiscovery.Method)
            .Lookup(new Akka.Discovery.Lookup("flannel"), TimeSpan.FromSeconds(5));
        await Poll.UntilAsync(() => new[] { "nodes", "configmaps" }.All(k => server.Requests.Any(r => r.Verb == "watch" && r.Resource == k)),
            TimeSpan.FromSeconds(15), "both watches started", 25);

        var used = server.Requests.Distinct().ToList();
        Assert.Equal(
            ["configmaps:get", "configmaps:watch", "events:create", "nodes/status:patch", "nodes:get", "nodes:list", "nodes:watch", "pods:list"],
            used.Select(u => $"{u.ResourceWithSubresource}:{u.Verb}").Distinct().Order(StringComparer.Ordinal));
        foreach (var r in used)
            Assert.True(rbac.Allows(r), $"the manifest's RBAC does not allow {r.Verb} {r.ResourceWithSubresource} {r.Name} in {r.Namespace ?? "(cluster)"}");
    }
}
