using k8s;

namespace Flannel.Host.Kubernetes;

/// <summary>The node this agent runs on, as flannel finds it: NODE_NAME, else the spec.nodeName of pod POD_NAMESPACE/POD_NAME.</summary>
public static class NodeNameResolver
{
    public static async Task<string> ResolveAsync(IKubernetes client, Func<string, string?> env, CancellationToken ct = default)
    {
        var nodeName = env("NODE_NAME");
        if (!string.IsNullOrEmpty(nodeName)) return nodeName;
        var podName = env("POD_NAME");
        var podNamespace = env("POD_NAMESPACE");
        if (string.IsNullOrEmpty(podName) || string.IsNullOrEmpty(podNamespace))
            throw new InvalidOperationException("the node name is unknown: set NODE_NAME, or POD_NAME and POD_NAMESPACE (downward API)");
        // A list by name rather than a GET: the agent's Role grants pods list/watch (seed discovery) and nothing more.
        var pods = await client.CoreV1.ListNamespacedPodAsync(namespaceParameter: podNamespace, fieldSelector: $"metadata.name={podName}",
            cancellationToken: ct);
        var pod = pods.Items.FirstOrDefault()
                  ?? throw new InvalidOperationException($"pod {podNamespace}/{podName} (POD_NAMESPACE/POD_NAME) does not exist");
        var fromPod = pod.Spec?.NodeName;
        if (string.IsNullOrEmpty(fromPod))
            throw new InvalidOperationException($"pod {podNamespace}/{podName} has no spec.nodeName (not scheduled yet?)");
        return fromPod;
    }

    public static Task<string> ResolveAsync(IKubernetes client, CancellationToken ct = default) =>
        ResolveAsync(client, Environment.GetEnvironmentVariable, ct);
}
