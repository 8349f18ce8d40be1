using System.Net;
using Akka.Actor;
using Flannel.Actors.Kubernetes;
using Flannel.Actors.Node;
using Flannel.Host.Options;
using Flannel.Net.Config;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace Flannel.Host.Kubernetes;

/// <summary>
/// What --kube-subnet-mgr learns from the API server before the agent starts: the node name (NODE_NAME, --node-name,
/// or the pod's spec.nodeName through POD_NAME/POD_NAMESPACE), the node's spec.podCIDR (waited for like flannel:
/// `node "n" pod cidr not assigned`), a public-ip-overwrite annotation, and the ConfigMap's net-conf.json when no
/// mounted file exists.
/// </summary>
public sealed record KubeNodeContext(IKubernetes Client, string NodeName, IPNetwork PodCidr, IPAddress? PublicIpOverwrite, string? ConfigMapNetConf)
{
    public static readonly TimeSpan PodCidrPoll = TimeSpan.FromSeconds(1);

    public static async Task<KubeNodeContext> LoadAsync(FlanneldOptions options, ILogger log, CancellationToken ct)
    {
        IKubernetes client;
        try
        {
            client = KubeClientFactory.Create(options.KubeApiUrl, options.KubeconfigFile);
        }
        catch (Exception e) when (e is FileNotFoundException or k8s.Exceptions.KubeConfigException or IOException)
        {
            throw new InvalidOperationException($"--kube-subnet-mgr: no Kubernetes client ({e.Message})", e);
        }
        var nodeName = await ResolveNodeNameAsync(client, options, ct).ConfigureAwait(false);
        log.LogInformation("Kubernetes subnet manager: node {Node}, API server {Server}", nodeName, client.BaseUri);

        var publisher = new NodeAnnotationPublisher(client, log, options.KubeAnnotationPrefix);
        var lastLog = DateTime.MinValue;
        while (true)
        {
            var node = await Read(() => client.CoreV1.ReadNodeAsync(name: nodeName, cancellationToken: ct), $"node \"{nodeName}\"").ConfigureAwait(false);
            if (KubeNodeInfoMapper.PodCidr(node) is { } cidr)
            {
                IPAddress? overwrite;
                try
                {
                    overwrite = await publisher.ReadPublicIpOverwriteAsync(nodeName, ct).ConfigureAwait(false);
                }
                catch (FormatException e)
                {
                    throw new InvalidOperationException(e.Message, e);
                }
                string? json = null;
                if (!File.Exists(options.NetConfigPath)) json = await ReadConfigMapNetConfAsync(client, options, ct).ConfigureAwait(false);
                return new KubeNodeContext(client, nodeName, cidr, overwrite, json);
            }
            if (DateTime.UtcNow - lastLog > TimeSpan.FromSeconds(5))
            {
                log.LogWarning("node \"{Node}\" pod cidr not assigned; waiting", nodeName);
                lastLog = DateTime.UtcNow;
            }
            await Task.Delay(PodCidrPoll, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The podCIDR is this node's lease, so it must lie inside the cluster's Network.</summary>
    public void RequirePodCidrInside(NetConf conf)
    {
        if (!conf.FitsNetwork(PodCidr))
            throw new InvalidOperationException(
                $"node \"{NodeName}\" podCIDR {PodCidr} is not inside Network {conf.Network?.ToString() ?? "(none)"} of net-conf.json " +
                "(kubeadm init --pod-network-cidr must match the ConfigMap's Network)");
    }

    private static async Task<string> ResolveNodeNameAsync(IKubernetes client, FlanneldOptions options, CancellationToken ct)
    {
        var explicitName = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NODE_NAME"))
                           || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(FlanneldOptions.EnvName("--node-name")))
                           || options.NodeName != Environment.MachineName;
        if (explicitName || options.PodName is null || options.PodNamespace is null) return options.NodeName;
        return await NodeNameResolver.ResolveAsync(client, key => key switch
        {
            "POD_NAME" => options.PodName,
            "POD_NAMESPACE" => options.PodNamespace,
            _ => null,
        }, ct).ConfigureAwait(false);
    }

    private static async Task<string> ReadConfigMapNetConfAsync(IKubernetes client, FlanneldOptions options, CancellationToken ct)
    {
        var ns = options.PodNamespace ?? ConfigMapWatcherActor.DefaultNamespace;
        var cm = await Read(() => client.CoreV1.ReadNamespacedConfigMapAsync(name: ConfigMapWatcherActor.DefaultName, namespaceParameter: ns, cancellationToken: ct),
            $"configmap {ns}/{ConfigMapWatcherActor.DefaultName}").ConfigureAwait(false);
        if (cm.Data is null || !cm.Data.TryGetValue(ConfigMapWatcherActor.DefaultKey, out var json))
            throw new InvalidOperationException($"configmap {ns}/{ConfigMapWatcherActor.DefaultName} has no {ConfigMapWatcherActor.DefaultKey} (and {options.NetConfigPath} does not exist)");
        return json;
    }

    private static async Task<T> Read<T>(Func<Task<T>> read, string what)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (HttpOperationException e)
        {
            throw new InvalidOperationException($"cannot read {what}: HTTP {(int)e.Response.StatusCode} {e.Response.ReasonPhrase}", e);
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"cannot read {what}: {e.Message}", e);
        }
    }
}
