namespace Flannel.Demo;

/// <summary>
/// kubectl against the test API server, run inside the underlay namespace (the hosts' namespaces cannot reach the root
/// namespace's loopback, so the server listens on the bridge there). One runner for both kube topologies.
/// </summary>
public static class NamespaceKubectl
{
    /// <summary>Runs kubectl; throws with its stderr when it fails.</summary>
    public static string Run(ClusterTopology cluster, string kubeconfigPath, TimeSpan timeout, string[] args)
    {
        var r = TryRun(cluster, kubeconfigPath, timeout, args);
        if (!r.Ok) throw new InvalidOperationException($"kubectl {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr.Trim()}");
        return r.Stdout;
    }

    public static ProcessRunner.Result TryRun(ClusterTopology cluster, string kubeconfigPath, TimeSpan timeout, string[] args) =>
        Netns.Exec(cluster.UnderlayNamespace, "kubectl",
            ["--kubeconfig", kubeconfigPath, "--cache-dir", Path.Combine(cluster.StateDir, "kubectl-cache"), .. args],
            timeout, env: new Dictionary<string, string> { ["HOME"] = cluster.StateDir });
}
